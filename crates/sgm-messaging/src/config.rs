//! Options of a group.

use serde::{Deserialize, Serialize};

/// Options of a [`crate::Group`]. Persisted with the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Pad plaintexts (mpENC §5.3): 128 bytes, then powers of two.
    pub padding: bool,
    /// Send a PCS update before an application message once this many
    /// application messages were sent since the last own update (`None`:
    /// never for this reason).
    pub update_every_messages: Option<u64>,
    /// Send a PCS update (on `tick` or before the next message) once this
    /// much time passed since the last own update (`None`: never).
    pub update_after_ms: Option<u64>,
    /// The §7 rule: send an update before the next application message when
    /// several concurrent updates/removals are not yet dominated.
    pub dominate_concurrent: bool,
    /// Acks (held-back key-agreement acks and delivery acks) wait this long
    /// for a message of our own to ride on before `tick` sends them.
    pub ack_delay_ms: u64,
    /// A message not acknowledged by every intended reader after this long
    /// raises [`crate::Warning::Undelivered`].
    pub delivery_timeout_ms: u64,
    /// How many epochs per sender are kept for late messages.
    pub old_epochs_max_count: usize,
    /// How long after a sender's epoch was superseded its late messages are
    /// still decrypted.
    pub old_epoch_max_age_ms: u64,
    /// Most message keys skipped and kept per sender.
    pub max_skipped: u64,
    /// Most envelopes in one re-send batch.
    pub max_resend_batch: usize,
    /// Transcript entries kept (the oldest are dropped).
    pub max_transcript: usize,
    /// Per-message causal summaries kept for ack tracking and the §7 rule.
    pub max_tracked_messages: usize,
    /// Most delivered broadcasts kept for re-sending (sync answers and the
    /// post-add part of welcomes; the oldest are dropped first), for a
    /// group of up to [`BOUNDS_SCALE_MEMBERS`] members. This and the three
    /// bounds below grow with the group: they are multiplied by
    /// ⌈known members / `BOUNDS_SCALE_MEMBERS`⌉, since a group makes
    /// broadcasts in proportion to its members and, after a partition
    /// heals, every member must re-send and hold the other side's share.
    #[serde(default = "default_history_max_count")]
    pub history_max_count: usize,
    /// Most bytes of delivered broadcasts kept for re-sending (scaled like
    /// `history_max_count`).
    #[serde(default = "default_history_max_bytes")]
    pub history_max_bytes: usize,
    /// Most received broadcasts waiting for their causal predecessors
    /// (scaled like `history_max_count`); the oldest are dropped beyond
    /// it, reported as [`crate::Warning::Dropped`], and must be fetched
    /// again.
    #[serde(default = "default_waiting_max_count")]
    pub waiting_max_count: usize,
    /// Most bytes of broadcasts waiting for their causal predecessors
    /// (scaled like `history_max_count`).
    #[serde(default = "default_waiting_max_bytes")]
    pub waiting_max_bytes: usize,
    /// Serialize the state into every [`crate::Output`] that changed it
    /// (the crash-consistent default). Off: `Output::state` is `None` and
    /// the application calls [`crate::Group::to_bytes`] when it wants.
    pub state_in_output: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            padding: true,
            update_every_messages: Some(100),
            update_after_ms: Some(7 * 24 * 3600 * 1000),
            dominate_concurrent: true,
            ack_delay_ms: 200,
            delivery_timeout_ms: 30_000,
            old_epochs_max_count: 3,
            old_epoch_max_age_ms: 3600 * 1000,
            max_skipped: 1000,
            max_resend_batch: 1024,
            max_transcript: 10_000,
            max_tracked_messages: 4096,
            history_max_count: default_history_max_count(),
            history_max_bytes: default_history_max_bytes(),
            waiting_max_count: default_waiting_max_count(),
            waiting_max_bytes: default_waiting_max_bytes(),
            state_in_output: true,
        }
    }
}

fn default_history_max_count() -> usize {
    4096
}

fn default_history_max_bytes() -> usize {
    16 << 20
}

fn default_waiting_max_count() -> usize {
    4096
}

fn default_waiting_max_bytes() -> usize {
    16 << 20
}

/// Most parents of one broadcast. ACB cites every head, and after a round of
/// concurrent key-agreement acks every member is a head (ACB's default of
/// 256 made every action fail in groups over 256 members). Matches ACB's
/// `max_direct_parts` (4096), which already bounds the group size; every
/// member uses the same bound, since receivers enforce it too.
pub const MAX_PARENTS: usize = 4096;

/// Group size up to which the history and waiting bounds of [`Config`]
/// apply as given; larger groups get them multiplied by
/// ⌈members / this⌉. The defaults (4096 broadcasts, 16 MiB) hold the
/// demo's partition scenario (about 24 broadcasts per member) at 128
/// members; with fixed bounds the 500-member demo failed (answers lacked
/// the oldest part of the partition, 36,850 waiting broadcasts dropped).
pub const BOUNDS_SCALE_MEMBERS: usize = 128;

/// The broadcast layer's bounds for a group with `members` known member
/// ids.
pub(crate) fn acb_config(config: &Config, members: usize) -> sgm_acb::AcbConfig {
    let k = members.div_ceil(BOUNDS_SCALE_MEMBERS).max(1);
    sgm_acb::AcbConfig {
        max_parents: MAX_PARENTS,
        store_max_count: config.history_max_count.saturating_mul(k),
        store_max_bytes: config.history_max_bytes.saturating_mul(k),
        buffer_max_count: config.waiting_max_count.saturating_mul(k),
        buffer_max_bytes: config.waiting_max_bytes.saturating_mul(k),
        ..sgm_acb::AcbConfig::default()
    }
}

impl Config {
    pub(crate) fn dcgka(&self) -> sgm_dcgka::Config {
        sgm_dcgka::Config {
            ratchet: sgm_dcgka::ratchet::RatchetConfig {
                max_skipped: self.max_skipped,
                max_epochs: self.old_epochs_max_count.max(1),
            },
            coalesce_acks: true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand_chacha::ChaCha20Rng;
    use sgm_crypto::SeedableRng;

    use super::*;
    use crate::{Group, UserId};

    #[test]
    fn bounds_grow_with_the_group() {
        let small = Config {
            history_max_count: 24,
            ..Config::default()
        };
        // As given up to BOUNDS_SCALE_MEMBERS members.
        assert_eq!(acb_config(&small, 3).store_max_count, 24);
        let d = Config::default();
        let at = |m| acb_config(&d, m);
        assert_eq!(at(128).store_max_count, 4096);
        assert_eq!(at(129).store_max_count, 2 * 4096);
        assert_eq!(at(500).store_max_bytes, 4 * (16 << 20));
        assert_eq!(at(500).buffer_max_count, 4 * 4096);
        assert_eq!(at(500).buffer_max_bytes, 4 * (16 << 20));

        // A member's broadcast layer follows the cards it learns, and a
        // restored state gets the same bounds.
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (mut g, _, _) = Group::new(UserId::from("a"), d, 1, &mut rng);
        assert_eq!(g.acb.config().store_max_count, 4096);
        for i in 0..BOUNDS_SCALE_MEMBERS {
            let (_, inv, _) = Group::new(UserId::from(format!("u{i}").as_str()), d, 1, &mut rng);
            g.register(&inv);
        }
        assert_eq!(g.acb.config().store_max_count, 2 * 4096);
        let restored = Group::from_bytes(g.to_bytes().expose_secret()).unwrap();
        assert_eq!(restored.acb.config(), g.acb.config());
    }
}
