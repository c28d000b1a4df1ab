//! Statements signed with the identity key outside the key agreement (the
//! façade's sync requests). Domain separation is enforced here, not left to
//! the caller: every statement is
//!
//! ```text
//! STATEMENT_LABEL ‖ u8(len(label)) ‖ label ‖ message
//! ```
//!
//! and no other signature made with the identity key (2SM signed prekeys,
//! 2SM first contact, ACB envelopes under the initial key) starts with
//! `STATEMENT_LABEL`, so a statement can never be mistaken for one of them.

use sgm_crypto::{Signature, VerifyingKey};

use crate::error::{DcgkaError, Result};
use crate::state::Dcgka;

/// Prefix of every identity-signed statement.
pub const STATEMENT_LABEL: &[u8] = b"sgm-dcgka v1 identity statement";

/// The bytes signed for `label` and `message` (fails for a label over 255
/// bytes).
pub fn statement_bytes(label: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let len = u8::try_from(label.len()).map_err(|_| DcgkaError::Malformed("statement label"))?;
    let mut out = Vec::with_capacity(STATEMENT_LABEL.len() + 1 + label.len() + message.len());
    out.extend_from_slice(STATEMENT_LABEL);
    out.push(len);
    out.extend_from_slice(label);
    out.extend_from_slice(message);
    Ok(out)
}

/// Checks a statement signed by `identity`.
pub fn verify_statement(
    identity: &VerifyingKey,
    label: &[u8],
    message: &[u8],
    signature: &Signature,
) -> Result<()> {
    identity
        .verify(&statement_bytes(label, message)?, signature)
        .map_err(|_| DcgkaError::Malformed("statement signature"))
}

impl Dcgka {
    /// Signs a statement (see the module docs) with this member's identity
    /// key.
    pub fn sign_statement(&self, label: &[u8], message: &[u8]) -> Result<Signature> {
        Ok(self.identity.sign(&statement_bytes(label, message)?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn statements_are_domain_separated() {
        // The length byte keeps (label, message) splits apart.
        assert_ne!(
            statement_bytes(b"ab", b"c").unwrap(),
            statement_bytes(b"a", b"bc").unwrap()
        );
        assert!(statement_bytes(&[0; 256], b"").is_err());
    }
}
