//! # sgm-mpenc
//!
//! The mpENC baseline (seed 001), wire-compatible with Mega's reference
//! implementation mpenc_js: given the same random values it produces the
//! same bytes, and it parses the packets mpenc_js produces.
//!
//! - [`codec`]: TLV records and the `?mpENC:…` wire form.
//! - [`cliques`]: CLIQUES group Diffie-Hellman over X25519.
//! - [`aske`]: the authenticated signature key exchange.
//! - [`greet_message`]: greeting packets (CLIQUES + ASKE in one signed packet).
//! - [`data`]: data messages (AES-CTR, Ed25519 by the ephemeral key).
//! - [`greeter`]: the greeting state machine (start, include, exclude,
//!   refresh, quit) and the state a completed greeting leaves.
//! - [`server_order`]: acceptance of membership operations in the order
//!   the transport server echoes them; packet ids and chain hashes.
//! - [`state`]: the state between greetings, persisted as bytes.
//! - [`vectors`]: the known-answer vectors of `test-vectors/mpenc.json`.
//! - [`drive`]: members on a totally ordered channel (tests, vectors, the
//!   harness adapter).
//! - [`transcript`]: the causal transcript, its eight consistency checks and
//!   full-ack warnings.
//!
//! ## Security properties
//!
//! - Group key secrecy: only the members of the last completed greeting
//!   can compute the group key; an excluded member cannot compute the key
//!   of a later sub-session (its intermediate key is no longer refreshed and
//!   its private keys never contribute again).
//! - Entity authentication: the ASKE acknowledgement binds each member's
//!   static key to its ephemeral key, its nonce and the session id (which
//!   binds the member list and every nonce).
//! - Data origin authentication: data messages are signed by the author's
//!   ephemeral key over H(sid ‖ group key) and the content, so a message
//!   cannot be moved to another session or key.
//! - What mpENC does not give (unlike DCGKA): no operation proceeds without
//!   the ordering server, and a partition stalls membership changes.
//!
//! Every receive path is transactional: on error, state is unchanged.
//! Randomness is injected (`&mut impl CryptoRng`) and drawn in mpenc_js's
//! order (docs/mpenc.md lists where each random value goes).

pub mod aske;
pub mod cliques;
pub mod codec;
pub mod data;
pub mod drive;
mod error;
pub mod greet_message;
pub mod greeter;
pub mod server_order;
pub mod state;
pub mod transcript;
pub mod vectors;

pub use error::{ApiMisuse, MpencError};

/// A member id: an opaque byte string (mpenc_js uses 8-bit JavaScript
/// strings; ids sort bytewise, as JavaScript sorts such strings).
pub type Id = Vec<u8>;

/// Bound on the members of a group, and on every repeated record.
pub const MAX_MEMBERS: usize = 512;
