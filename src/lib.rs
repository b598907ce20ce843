//! knsim: a discrete-event simulator of Knative Serving's autoscaler and data
//! plane. Its HTTP counterpart, knload, is the workspace crate `crates/knload`;
//! it uses this crate's Go-style durations and seeded streams, never the
//! reverse, so the simulator builds without an async runtime.
//!
//! Layout:
//! - [`sim`]: engine primitives (integer time, FIFO event queue, seeded streams);
//! - [`knative`]: faithful ports of Knative's algorithms (decider, buckets,
//!   KPA scaler, route rules), pure functions with Knative's golden cases;
//! - [`workload`]: arrival processes, distributions and trace replay;
//! - [`scenario`]: scenario files, `--set` overrides, validation;
//! - [`manifest`]: Knative YAML (Service, ConfigMaps) read as scenario input;
//! - [`model`]: the simulated cluster and its event handlers;
//! - [`output`]: writing results;
//! - [`plot`]: SVG charts and the HTML report, drawn from written results;
//! - [`sweep`], [`gate`]: parameter sweeps with confidence intervals, SLO and
//!   baseline checks;
//! - [`validation`]: comparisons with queueing theory;
//! - [`fit`], [`compare`]: calibrating against and judging by measurements.
#![deny(missing_docs)]

pub mod compare;
pub mod fit;
pub mod gate;
pub mod knative;
pub mod kubernetes;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod output;
pub mod plot;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod validation;
pub mod workload;

/// How this build of the library was optimised: with the profile in `pgo/`
/// made from the present sources, with an older one (functions changed
/// since are optimised as without it), or without one (`scripts/pgo-rustc`
/// decides; docs/performance.md, "Thirteenth round: profile-guided
/// optimisation").
pub const BUILD_PROFILE: &str = if cfg!(knsim_pgo = "current") {
    "profile-guided (profile current)"
} else if cfg!(knsim_pgo = "stale") {
    "profile-guided (profile older than the sources)"
} else {
    "without a profile"
};
