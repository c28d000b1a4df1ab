//! Link and simulator configuration.

/// Probabilities are integers in parts per million so that a run depends
/// only on the seed, never on floating-point rounding.
pub const PPM: u32 = 1_000_000;

/// How one directed link behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Base one-way latency in milliseconds.
    pub latency_ms: u64,
    /// Extra latency drawn uniformly from `0..=jitter_ms`; jitter is what
    /// reorders packets on one link.
    pub jitter_ms: u64,
    /// Probability that a packet is lost, in parts per million.
    pub loss_ppm: u32,
    /// Probability that a delivered packet arrives twice, in parts per million.
    pub duplicate_ppm: u32,
}

impl LinkConfig {
    /// A perfect link with the given latency: no jitter, loss or duplicates.
    pub const fn ideal(latency_ms: u64) -> Self {
        Self {
            latency_ms,
            jitter_ms: 0,
            loss_ppm: 0,
            duplicate_ppm: 0,
        }
    }

    /// Converts a probability in `[0, 1]` to parts per million (clamped).
    pub fn ppm(probability: f64) -> u32 {
        if probability.is_nan() || probability <= 0.0 {
            0
        } else if probability >= 1.0 {
            PPM
        } else {
            // In range by the checks above.
            (probability * f64::from(PPM)).round() as u32
        }
    }
}

impl Default for LinkConfig {
    /// 20 ms ± 30 ms, no loss, no duplicates.
    fn default() -> Self {
        Self {
            latency_ms: 20,
            jitter_ms: 30,
            loss_ppm: 0,
            duplicate_ppm: 0,
        }
    }
}

/// The simulator's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Seed of the simulator's own random choices (latency, loss, …).
    pub seed: u64,
    /// Every link's behaviour unless overridden with
    /// [`crate::Simulator::set_link`].
    pub default_link: LinkConfig,
    /// Route every packet through an untrusted store-and-forward relay
    /// (server-side fan-out). The relay keeps packets for members that are
    /// offline or cut off from it and hands them over when they come back.
    pub relay: bool,
}

impl SimConfig {
    /// Default links, no relay.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            default_link: LinkConfig::default(),
            relay: false,
        }
    }
}
