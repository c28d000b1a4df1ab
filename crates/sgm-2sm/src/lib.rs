//! # sgm-2sm
//!
//! Two-party secure messaging (2SM) that heals after every message, with prekey bundles.
//!
//! Not yet implemented: this crate is a placeholder in the workspace layout.
