//! The simulated cluster: one Knative Service with its revisions, pods,
//! queue-proxies, activators, autoscaler and route.
//!
//! ```text
//!  workload ──► ingress ──(weighted random revision; tag host → 100 % to the tag)
//!                  │
//!        SKS Serve │ SKS Proxy
//!                  │    └──► activator subset (round robin) ─► throttler queue
//!                  │                                        │  (LB by containerConcurrency)
//!                  ▼                                        ▼
//!           ready pods (round robin) ──► queue-proxy breaker (CC + 10·CC) ──► app
//!
//!  queue-proxy 1-s reports ─► scraper (sample n of N, ×N/n) ─┐
//!  activator 1-s reports + first-request stat + Poke ────────┴► collector buckets
//!  decider Scale() every 2 s ─► KPA reconcile ─► replicas, SKS mode, activator count
//! ```
//!
//! The engine does no I/O and reads no clock: a
//! [`crate::scenario::Scenario`] and a seed go in, a [`Summary`] comes out,
//! and timeseries rows are handed to a [`TimeseriesSink`] as each simulated
//! second closes. Each box above is a component in `engine/` that owns its
//! state (`ingress`, `activator`, `queue_proxy`, `pods`, `autoscaler`,
//! `accounting`, `timeline`); only `engine/mod.rs` calls across them.
//! `docs/architecture.md` has the map.

pub mod cluster;
mod engine;
mod report;
mod stats;

pub use engine::simulate;
pub use report::{
    BatchMeans, DecisionKind, DecisionRecord, EventingSummary, HpaSummary, Interval,
    LatencySummary, NoTimeseries, Performance, QuantilePoint, ReconcileDecision, RequestCounts,
    RequestOutcome, RequestRecord, RequestSender, RevisionSummary, ServiceEventLoad, Summary,
    TickDecision, TimeseriesRow, TimeseriesSink, TriggerSummary, WindowSummary,
};
pub use stats::RequestStats;
