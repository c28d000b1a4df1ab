//! The harness's error.

use sgm_crypto::MemberId;

/// What went wrong while driving a scheme.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The scheme refused a call: the error it gave, with where.
    #[error("{scheme}: {call} at member {member}: {source}")]
    Scheme {
        /// The scheme's name.
        scheme: &'static str,
        /// The call (`create`, `receive`, ...).
        call: &'static str,
        /// The member the call ran at.
        member: MemberId,
        /// The scheme's own error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The driver was given a member it does not know (API misuse).
    #[error("unknown member {0}")]
    UnknownMember(MemberId),
    /// No pending delivery has this index (API misuse).
    #[error("no pending delivery at index {0}")]
    NoSuchDelivery(usize),
    /// Delivering this entry now would break the causal (or, for schemes
    /// that need it, total) order (API misuse).
    #[error("pending delivery {0} is not deliverable yet")]
    NotDeliverable(usize),
}

impl HarnessError {
    /// The scheme's error, if the scheme refused a call.
    pub fn scheme_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Self::Scheme { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Result with [`HarnessError`].
pub type Result<T> = std::result::Result<T, HarnessError>;
