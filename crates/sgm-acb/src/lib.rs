//! # sgm-acb: authenticated causal broadcast
//!
//! The broadcast layer DCGKA assumes (Weidner et al. 2021, §5.1): every
//! message is signed by its sender over the whole envelope, carries the ids
//! of its causal predecessors, and is handed to the layer above only after
//! all of them. Placeholder until the implementation lands.

mod acb;
mod buffer;
mod config;
mod error;
mod membership;
mod state;
mod store;
pub mod vectors;
mod wire;

pub use acb::{Acb, Accepted, Delivered, Outgoing, Receipt};
pub use config::AcbConfig;
pub use error::{AcbError, AcbEvent, ApiMisuse, BufferLimit, Malformed};
pub use membership::{AllowAll, MembershipCheck};
pub use state::STATE_VERSION;
pub use wire::{
    DirectPart, Envelope, MESSAGE_ID_LABEL, MESSAGE_ID_LEN, MessageId, SIGNATURE_LABEL,
    SignedEnvelope, WIRE_VERSION,
};
