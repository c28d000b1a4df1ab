//! # sgm-dgm
//!
//! Decentralized group membership (DGM; Weidner et al. 2021, §5.2): a
//! deterministic function from a causal DAG of membership operations to the
//! set of group members. Every replica that has applied the same ops
//! computes the same membership, whatever order they arrived in.
//!
//! ## What it does
//!
//! - [`Op`]s (`Create`, batch `Add`, batch `Remove`, `Ack`) name their causal
//!   parents; [`Dgm::apply`] accepts them in any causal order.
//! - [`Dgm::members`]: the membership over everything applied;
//!   [`Dgm::member_view`]: the membership as a member saw it at its latest op
//!   (the paper's *member-view*, which DCGKA uses to know who a message was
//!   encrypted for); [`Dgm::view_at`]: the membership at any set of heads.
//! - **Strong remove**: concurrent removals all take effect (A removes B while
//!   B removes A: both go), and a member added by someone who is removed
//!   concurrently with that add is removed too, cascading through whoever it
//!   added (the Java prototype's `StrongRemoveDgm` rule, made a function of
//!   the DAG: an add is undone when the remover had not seen it).
//! - Added ids are unique: removal is permanent, re-adding a removed id is an
//!   error; a returning user joins under a fresh id.
//! - Ops by authors who are not members in the op's own causal past are
//!   rejected with a typed [`DgmError`]; every rejection leaves the state
//!   unchanged.
//! - Permissions are a separate layer: [`Policy`], [`AdminPolicy`],
//!   [`Dgm::apply_with`].
//! - History: [`Dgm::history_for_welcome`] / [`Dgm::from_welcome`] for the
//!   welcome message, [`Dgm::to_bytes`] / [`Dgm::from_bytes`] for persistence.
//!   The compaction rule is in `docs/dgm.md`.
//!
//! ## Guarantees
//!
//! - The results of [`Dgm::members`], [`Dgm::member_view`], [`Dgm::view_at`],
//!   [`Dgm::heads`] and whether an op is accepted depend only on the set of
//!   ops and their causal order (property-tested over random histories and
//!   delivery orders against a naive oracle).
//! - No panics on any input; decoding is strict and bounded by
//!   [`MAX_TARGETS`] and [`MAX_PARENTS`].
//! - Cost: applying a history of N ops with M membership ops is
//!   O(N·(p + M/64)) plus the cascades of removals; member views are O(n)
//!   in the common case. Details in `docs/dgm.md`.
//!
//! ## Example
//!
//! ```
//! use sgm_dgm::{Dgm, MemberId, Op, OpId, OpKind};
//!
//! let [a, b, c, d] = [1u8, 2, 3, 4].map(|i| MemberId::from_bytes([i; 16]));
//! let id = |n: u8| OpId([n; 32]);
//!
//! let mut dgm = Dgm::new();
//! dgm.apply(Op { id: id(1), author: a, parents: vec![], kind: OpKind::Create { members: vec![a, b, c] } })?;
//! // Concurrently: B adds D, and C removes B.
//! dgm.apply(Op { id: id(2), author: b, parents: vec![id(1)], kind: OpKind::Add { members: vec![d] } })?;
//! dgm.apply(Op { id: id(3), author: c, parents: vec![id(1)], kind: OpKind::Remove { members: vec![b] } })?;
//!
//! // Strong remove: B is gone, and so is D, whom B added concurrently.
//! assert_eq!(dgm.members(), [a, c].into());
//! // B and D still see the group as it was when B added D.
//! assert_eq!(dgm.member_view(&d), [a, b, c, d].into());
//! // A has seen only the create.
//! assert_eq!(dgm.member_view(&a), [a, b, c].into());
//! assert_eq!(dgm.heads(), vec![id(2), id(3)]);
//! # Ok::<(), sgm_dgm::DgmError>(())
//! ```

mod bits;
mod causal;
mod dgm;
mod error;
mod eval;
mod history;
mod op;
mod policy;
pub mod vectors;

pub use dgm::{Applied, Dgm};
pub use error::DgmError;
pub use history::{HISTORY_VERSION, WelcomeHistory};
pub use op::{MAX_PARENTS, MAX_TARGETS, OP_ID_LEN, Op, OpId, OpKind};
pub use policy::{AdminPolicy, AllowAll, Policy};
pub use sgm_crypto::MemberId;
