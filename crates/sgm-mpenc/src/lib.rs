//! # sgm-mpenc
//!
//! mpENC baseline: CLIQUES group Diffie-Hellman, ASKE, causal transcript.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
