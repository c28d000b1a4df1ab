//! # sgm-acb
//!
//! Authenticated causal broadcast: signed envelopes, causal delivery, rotating signing keys.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
