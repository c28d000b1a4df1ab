//! # sgm-sender-keys
//!
//! Sender Keys baseline (Signal/WhatsApp) with pairwise fan-out.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
