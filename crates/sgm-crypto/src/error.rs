use thiserror::Error;

/// Errors from the primitive layer.
///
/// Each variant says what was wrong; none of them carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key, nonce or other fixed-size value had the wrong length.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    InvalidLength {
        /// Which value was malformed.
        what: &'static str,
        /// The length the primitive requires.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
    /// Bytes that do not encode a valid public key (for example a non-canonical
    /// Ed25519 point).
    #[error("invalid {0} public key")]
    InvalidPublicKey(&'static str),
    /// An Ed25519 signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// An AEAD or HPKE ciphertext did not authenticate under the given key and
    /// associated data.
    #[error("decryption failed: ciphertext or associated data not authentic")]
    DecryptionFailed,
    /// X25519 produced the all-zero output (the peer sent a low-order point).
    #[error("non-contributory Diffie-Hellman: low-order public key")]
    NonContributory,
    /// HKDF was asked for more output than RFC 5869 allows (255 * 32 bytes).
    #[error("HKDF output length {0} exceeds 8160 bytes")]
    KdfOutputTooLong(usize),
    /// A batch had inputs of different lengths.
    #[error("batch inputs differ in length")]
    BatchLengthMismatch,
}
