//! # sgm: decentralized secure group messaging
//!
//! The umbrella crate: every layer of the workspace under one roof.
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`crypto`] | `sgm-crypto` | typed wrappers over dalek/RustCrypto primitives |
//! | [`two_sm`] | `sgm-2sm` | two-party secure messaging with prekey bundles |
//! | [`acb`] | `sgm-acb` | authenticated causal broadcast |
//! | [`dgm`] | `sgm-dgm` | decentralized group membership |
//! | [`dcgka`] | `sgm-dcgka` | DCGKA and per-member message ratchets |
//! | [`sender_keys`] | `sgm-sender-keys` | baseline: Sender Keys |
//! | [`mpenc`] | `sgm-mpenc` | baseline: mpENC |
//! | [`messaging`] | `sgm-messaging` | the façade an application uses |
//! | [`sim`] | `sgm-sim` | deterministic network simulator |
//!
//! Depend on the layer crates one by one if you need only some of them; this
//! crate adds nothing but the names. A walk through a whole group session
//! arrives here with the messaging façade.

pub use sgm_2sm as two_sm;
pub use sgm_acb as acb;
pub use sgm_crypto as crypto;
pub use sgm_dcgka as dcgka;
pub use sgm_dgm as dgm;
pub use sgm_messaging as messaging;
pub use sgm_mpenc as mpenc;
pub use sgm_sender_keys as sender_keys;
pub use sgm_sim as sim;
