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
