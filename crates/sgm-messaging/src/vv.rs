//! Version vectors shared copy-on-write.
//!
//! A broadcast's version vector is the entry-wise maximum of its parents'
//! (plus its own seq). After a round of concurrent key-agreement acks every
//! member is a head, so at n members a broadcast names ~n parents and a
//! dense merge costs n × n (250,000 entries per delivery at 500 members,
//! about as much CPU as the signature check, and 4 KiB per kept summary).
//! But the acks of one round differ from their common past in one or two
//! entries. So a vector is a shared base plus a short sorted list of
//! entries above it: merging parents that share a base merges only those
//! lists, and a merge over several bases, or one whose list would grow past
//! [`MAX_DIFF`], makes a new base in O(bases × n + list entries).
//!
//! Persisted as the plain dense vector (the state format is unchanged).

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most entries above the base before a merge makes a new base. Bounds the
/// size of one summary to O(`MAX_DIFF`) besides its shared base.
pub(crate) const MAX_DIFF: usize = 32;

/// A version vector: `base` (shared) raised by `diff`, `(index, seq)`
/// strictly ascending by index, each above the base's entry. Entries past
/// the end of the base are 0. `len` is the length persisted (the number of
/// members known when it was made), so the state bytes do not depend on
/// how the vector is shared.
#[derive(Clone, Debug, Default)]
pub(crate) struct Vv {
    base: Arc<Vec<u64>>,
    diff: Vec<(usize, u64)>,
    len: usize,
}

impl Vv {
    /// Entry `i`.
    pub(crate) fn get(&self, i: usize) -> u64 {
        match self.diff.binary_search_by_key(&i, |e| e.0) {
            Ok(k) => self.diff.get(k).map_or(0, |e| e.1),
            Err(_) => self.base.get(i).copied().unwrap_or(0),
        }
    }

    /// The dense vector, `len` entries long.
    pub(crate) fn to_vec(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.base.as_ref().clone();
        raise_all(&mut v, &self.diff);
        v.resize(self.len.max(v.len()), 0);
        v
    }

    /// The entry-wise maximum of `parents`, with entry `own` raised to
    /// `seq` (a broadcast's own position); `len` entries when persisted.
    pub(crate) fn merge<'a>(
        parents: impl IntoIterator<Item = &'a Vv>,
        own: Option<(usize, u64)>,
        len: usize,
    ) -> Vv {
        let parents: Vec<&Vv> = parents.into_iter().collect();
        let mut seen: HashSet<*const Vec<u64>> = HashSet::new();
        let mut bases: Vec<&Arc<Vec<u64>>> = Vec::new();
        let mut listed = 0usize;
        for p in &parents {
            if seen.insert(Arc::as_ptr(&p.base)) {
                bases.push(&p.base);
            }
            listed = listed.saturating_add(p.diff.len());
        }
        let own_list: Vec<(usize, u64)> = own.into_iter().collect();
        if let [base] = bases.as_slice()
            && listed < MAX_DIFF
        {
            let mut diff: Vec<(usize, u64)> = parents
                .iter()
                .flat_map(|p| p.diff.iter().copied())
                .chain(own_list.iter().copied())
                .filter(|(i, s)| base.get(*i).copied().unwrap_or(0) < *s)
                .collect();
            // Ascending index, highest seq first; keep the first per index.
            diff.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            diff.dedup_by_key(|e| e.0);
            return Vv {
                base: Arc::clone(base),
                diff,
                len,
            };
        }
        let widest = bases.iter().map(|b| b.len()).max().unwrap_or(0);
        let mut dense = vec![0u64; widest];
        for b in &bases {
            for (a, x) in dense.iter_mut().zip(b.iter()) {
                *a = (*a).max(*x);
            }
        }
        for p in &parents {
            raise_all(&mut dense, &p.diff);
        }
        raise_all(&mut dense, &own_list);
        let mut v = Vv::from(dense);
        v.len = len;
        v
    }
}

/// Raises `v` to every `(index, seq)` of `list`, growing it as needed.
fn raise_all(v: &mut Vec<u64>, list: &[(usize, u64)]) {
    for &(i, s) in list {
        if v.len() <= i {
            v.resize(i.saturating_add(1), 0);
        }
        if let Some(slot) = v.get_mut(i) {
            *slot = (*slot).max(s);
        }
    }
}

impl From<Vec<u64>> for Vv {
    fn from(dense: Vec<u64>) -> Self {
        Vv {
            len: dense.len(),
            base: Arc::new(dense),
            diff: Vec::new(),
        }
    }
}

impl Serialize for Vv {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_vec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Vv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<u64>::deserialize(d).map(Vv::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_merge(parents: &[Vec<u64>], own: Option<(usize, u64)>) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        for p in parents {
            raise_all(&mut out, &p.iter().copied().enumerate().collect::<Vec<_>>());
        }
        raise_all(&mut out, &own.into_iter().collect::<Vec<_>>());
        out
    }

    fn trimmed(mut v: Vec<u64>) -> Vec<u64> {
        while v.last() == Some(&0) {
            v.pop();
        }
        v
    }

    /// A round of concurrent acks over one base, then a broadcast naming
    /// them all: the sparse merge equals the dense one, shares the base
    /// while the lists are short, and makes a new base past `MAX_DIFF`.
    #[test]
    fn sparse_merge_matches_dense_merge() {
        let n = 3 * MAX_DIFF;
        let root = Vv::from((1..=n as u64).collect::<Vec<_>>());
        let acks: Vec<Vv> = (0..n)
            .map(|i| Vv::merge([&root], Some((i, root.get(i) + 1)), n))
            .collect();
        for a in &acks {
            assert!(Arc::ptr_eq(&a.base, &root.base));
            assert_eq!(a.diff.len(), 1);
        }
        let few = Vv::merge(acks.iter().take(4), Some((n, 1)), n + 1);
        assert!(Arc::ptr_eq(&few.base, &root.base));
        let dense: Vec<Vec<u64>> = acks.iter().map(Vv::to_vec).collect();
        assert_eq!(few.to_vec(), dense_merge(&dense[..4], Some((n, 1))));
        let all = Vv::merge(acks.iter(), Some((n + 2, 7)), n + 3);
        assert!(all.diff.is_empty());
        assert_eq!(all.to_vec(), dense_merge(&dense, Some((n + 2, 7))));
        // Several bases: merged densely.
        let mixed = Vv::merge([&all, &acks[0], &few], None, n + 3);
        let want = dense_merge(&[all.to_vec(), dense[0].clone(), few.to_vec()], None);
        assert_eq!(trimmed(mixed.to_vec()), trimmed(want));
        for i in 0..n + 4 {
            assert_eq!(
                mixed.get(i),
                all.to_vec().get(i).copied().unwrap_or(0).max(few.get(i))
            );
        }
    }

    #[test]
    fn persists_as_the_dense_vector() {
        let root = Vv::from(vec![3, 0, 5]);
        let v = Vv::merge([&root], Some((4, 2)), 6);
        let json = serde_json::to_string(&v).unwrap_or_default();
        assert_eq!(json, "[3,0,5,0,2,0]");
        let back: Vv = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.to_vec(), v.to_vec());
        assert_eq!(Vv::merge([], None, 2).to_vec(), vec![0, 0]);
    }
}
