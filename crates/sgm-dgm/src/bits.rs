//! A growable bit set over membership-op indices.
//!
//! Each applied op carries the set of membership ops (create, add, remove) in
//! its inclusive causal past. Ops applied earlier have shorter sets; missing
//! words read as zero.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bits {
    words: Vec<u64>,
}

impl Bits {
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    pub(crate) fn insert(&mut self, i: usize) {
        let word = i / 64;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if let Some(w) = self.words.get_mut(word) {
            *w |= 1 << (i % 64);
        }
    }

    pub(crate) fn union_with(&mut self, other: &Bits) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= *o;
        }
    }

    /// Whether every bit of `self` is set in `other`.
    pub(crate) fn is_subset(&self, other: &Bits) -> bool {
        self.words.iter().enumerate().all(|(i, w)| {
            let o = other.words.get(i).copied().unwrap_or(0);
            w & !o == 0
        })
    }

    /// Whether bits `0..n` are all set.
    pub(crate) fn is_full(&self, n: usize) -> bool {
        let full_words = n / 64;
        if self.words.len() < full_words {
            return false;
        }
        if !self.words.iter().take(full_words).all(|w| *w == u64::MAX) {
            return false;
        }
        let rest = n % 64;
        rest == 0
            || self
                .words
                .get(full_words)
                .is_some_and(|w| w & ((1u64 << rest) - 1) == (1u64 << rest) - 1)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            core::iter::from_fn(move || {
                if w == 0 {
                    None
                } else {
                    let t = w.trailing_zeros() as usize;
                    w &= w - 1;
                    Some(i * 64 + t)
                }
            })
        })
    }

    pub(crate) fn word_count(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = Bits::default();
        for i in [0, 3, 64, 130] {
            a.insert(i);
        }
        assert!(a.contains(3) && a.contains(130) && !a.contains(4) && !a.contains(1000));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 3, 64, 130]);
        let mut b = Bits::default();
        b.insert(3);
        assert!(b.is_subset(&a) && !a.is_subset(&b));
        b.union_with(&a);
        assert_eq!(a, b);
        let mut f = Bits::default();
        for i in 0..70 {
            f.insert(i);
        }
        assert!(f.is_full(70) && f.is_full(64) && f.is_full(0) && !f.is_full(71));
    }
}
