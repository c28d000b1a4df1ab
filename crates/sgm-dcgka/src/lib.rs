//! # sgm-dcgka
//!
//! DCGKA (Weidner et al. 2021) with per-member forward-secure message ratchets.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
