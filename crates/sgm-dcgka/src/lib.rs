//! # sgm-dcgka
//!
//! DCGKA (Weidner et al. 2021) with per-member forward-secure message ratchets.

pub mod error;
pub mod key_schedule;
pub mod ratchet;
mod wire;

pub use error::DcgkaError;
