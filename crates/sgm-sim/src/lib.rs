//! # sgm-sim
//!
//! Deterministic network simulator: latency, loss, reordering, partitions.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
