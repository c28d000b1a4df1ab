//! # sgm
//!
//! sgm: decentralized secure group messaging (umbrella crate).
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
