//! Randomness helpers.
//!
//! Every function in sgm that needs randomness takes `&mut impl CryptoRng`
//! (rand_core 0.10). Protocol layers draw their random values up front into
//! named structs, so a test vector can list each value with its purpose; the
//! [`FixedBytes`] source then feeds one of those recorded values to a
//! primitive (such as HPKE's ephemeral key generation) that insists on
//! drawing from an RNG itself.

use core::convert::Infallible;

pub use rand_core::{CryptoRng, Rng, SeedableRng, TryCryptoRng, TryRng};

/// The operating system's random source (`getrandom`), ready to pass
/// wherever sgm asks for `&mut impl CryptoRng`. **Applications use this.**
///
/// Seeded generators (`rand_chacha::ChaCha20Rng::seed_from_u64`) appear in
/// sgm's tests and vectors only so that runs reproduce byte for byte; in an
/// application every user would get the same keys.
///
/// If the operating system cannot provide randomness at all, drawing from
/// it panics (as `rand`'s `OsRng` does through the same `UnwrapErr`
/// adapter): no key may be made from anything less.
///
/// ```
/// use sgm_crypto::{OsRng, X25519SecretKey};
/// let key = X25519SecretKey::generate(&mut OsRng);
/// # let _ = key;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl TryRng for OsRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(rand_core::UnwrapErr(getrandom::SysRng).next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(rand_core::UnwrapErr(getrandom::SysRng).next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand_core::UnwrapErr(getrandom::SysRng).fill_bytes(dst);
        Ok(())
    }
}

impl TryCryptoRng for OsRng {}

/// Draws an array of `N` random bytes.
pub fn random_array<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

/// An "RNG" that hands out exactly the bytes it was given, then zeros.
///
/// Used to replay a recorded random value into a primitive that draws from
/// an RNG (HPKE encapsulation draws `ikmE`, RFC 9180 §4.1). It is marked
/// `CryptoRng` only so those primitives accept it: it is as random as the
/// bytes put into it, and [`FixedBytes::exhausted`] lets the caller check that
/// the primitive consumed exactly what was recorded.
pub struct FixedBytes<'a> {
    bytes: &'a [u8],
    overrun: bool,
}

impl<'a> FixedBytes<'a> {
    /// A source that yields `bytes` in order.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            overrun: false,
        }
    }

    /// True when every byte was consumed and no more were asked for.
    pub fn exhausted(&self) -> bool {
        self.bytes.is_empty() && !self.overrun
    }
}

impl TryRng for FixedBytes<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let n = dst.len().min(self.bytes.len());
        let (head, tail) = self.bytes.split_at(n);
        dst[..n].copy_from_slice(head);
        dst[n..].fill(0);
        if n < dst.len() {
            self.overrun = true;
        }
        self.bytes = tail;
        Ok(())
    }
}

impl TryCryptoRng for FixedBytes<'_> {}

#[cfg(test)]
mod os_rng_tests {
    use super::*;

    #[test]
    fn os_rng_draws_different_keys_each_time() {
        // A seeded generator copied into an app gives every user the same
        // keys; the OS source must not.
        let a: [u8; 32] = random_array(&mut OsRng);
        let b: [u8; 32] = random_array(&mut OsRng);
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
