//! # sgm-dgm
//!
//! Decentralized group membership: one deterministic membership from any delivery order.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
