//! Seeded random-number streams. One master seed yields an independent
//! generator per purpose, so that (for example) changing an autoscaler setting,
//! which changes how many pods draw cold-start times, cannot shift the arrival
//! stream: common random numbers across configurations.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used everywhere in the engine.
pub type SimRng = Xoshiro256PlusPlus;

/// What a random stream is used for. Each gets its own generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stream {
    /// Arrival times of a workload source (indexed by source).
    Arrivals,
    /// The ingress's per-request revision choice.
    Routing,
    /// Service times (indexed by revision).
    ServiceTime,
    /// Cold-start phase durations (indexed by revision).
    ColdStart,
    /// The scraper's pod sampling (indexed by revision).
    Scraper,
    /// Phases of per-revision tickers (decider ticks).
    TickPhase,
    /// Load-balancing choices in the activator (indexed by revision).
    LoadBalancing,
    /// Anything a workload needs besides arrival times (durations, tags).
    WorkloadExtra,
    /// The kube-scheduler's tie-breaks among equally scored nodes.
    Placement,
    /// Node provisioning and deletion times and the cluster autoscaler's
    /// expander ties (indexed by node pool for the times).
    Nodes,
    /// The pod resource model: CPU time per request, metrics-server phase
    /// (indexed by revision; drawn only for revisions that use the model).
    Resources,
    /// Eventing: event-source arrivals and PingSource jitter (indexed by
    /// source), broker latency (index `u64::MAX`). Last in the list so that
    /// no other stream's seed moves.
    Eventing,
    /// A revision's independent 500s (indexed by revision); drawn from only
    /// when its failure probability is above 0.
    Failure,
}

/// Derives per-stream generators from one master seed.
#[derive(Clone, Debug)]
pub struct RngStreams {
    master: u64,
}

impl RngStreams {
    /// Streams derived from `master`.
    pub fn new(master: u64) -> Self {
        RngStreams { master }
    }

    /// The master seed (recorded in every output).
    pub fn master(&self) -> u64 {
        self.master
    }

    /// The generator for `stream`, instance `index` (e.g. the revision or
    /// workload number). The same triple always gives the same sequence.
    pub fn get(&self, stream: Stream, index: u64) -> SimRng {
        let mut s = splitmix64(self.master ^ 0x6b6e_7369_6d00_0000);
        s = splitmix64(s ^ (stream as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        s = splitmix64(s ^ index.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        SimRng::seed_from_u64(s)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let s = RngStreams::new(7);
        let a: u64 = s.get(Stream::Arrivals, 0).random();
        let a2: u64 = s.get(Stream::Arrivals, 0).random();
        let b: u64 = s.get(Stream::Arrivals, 1).random();
        let c: u64 = s.get(Stream::Routing, 0).random();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_ne!(a, c);
        let other: u64 = RngStreams::new(8).get(Stream::Arrivals, 0).random();
        assert_ne!(a, other);
    }
}
