//! # sgm-dgm
//!
//! Decentralized group membership (DGM, paper §5.2): one deterministic
//! membership from any delivery order.
//!
//! (Crate docs are completed below.)

mod bits;
mod dgm;
mod error;
mod eval;
mod history;
mod op;
mod policy;
pub mod vectors;

pub use dgm::{Applied, Dgm};
pub use error::DgmError;
pub use history::{HISTORY_VERSION, WelcomeHistory};
pub use op::{MAX_PARENTS, MAX_TARGETS, OP_ID_LEN, Op, OpId, OpKind};
pub use policy::{AdminPolicy, AllowAll, Policy};
pub use sgm_crypto::MemberId;
