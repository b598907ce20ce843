//! Engine primitives: integer simulated time, a deterministic event queue and
//! seeded random-number streams. Nothing here knows about Knative.

pub(crate) mod hugepages;
mod prefetch;
mod queue;
mod rng;
mod time;

pub(crate) use prefetch::prefetch;
pub use queue::EventQueue;
pub use rng::{RngStreams, SimRng, Stream};
pub use time::{parse_go_duration, round_u64, SimDuration, SimTime};
