//! # sgm-messaging
//!
//! Messaging facade: one Group API over ACB, DGM, DCGKA and message ratchets.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
