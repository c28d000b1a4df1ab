//! # sgm-dcgka
//!
//! DCGKA (Weidner et al. 2021) with per-member forward-secure message ratchets.

mod ack;
mod add;
mod app;
pub mod broadcast;
pub mod error;
pub mod key_schedule;
pub mod messages;
mod ops;
mod output;
mod persist;
mod process;
pub mod ratchet;
mod seed;
mod state;
mod two_party;
mod wire;

pub use app::Sealed;
pub use error::DcgkaError;
pub use output::{OperationOutput, Outgoing, ProcessOutput, UpdateSecretEvent};
pub use state::{Config, Dcgka, OP_ID_LABEL, op_id};
pub use two_party::PrekeyDirectory;
pub use wire::{MAX_MESSAGE_LEN, WIRE_VERSION};
