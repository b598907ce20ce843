//! knsim: a discrete-event simulator of Knative Serving's autoscaler and data
//! plane, and knload, an HTTP load generator that checks real traffic splits.
//!
//! Layout:
//! - [`sim`]: engine primitives (integer time, FIFO event queue, seeded streams);
//! - [`knative`]: faithful ports of Knative's algorithms (decider, buckets,
//!   KPA scaler, route rules), pure functions with Knative's golden cases;
//! - [`workload`]: arrival processes, distributions and trace replay;
//! - [`scenario`]: scenario files, `--set` overrides, validation;
//! - [`model`]: the simulated cluster and its event handlers;
//! - [`output`]: writing results;
//! - [`validation`]: comparisons with queueing theory.
#![deny(missing_docs)]

pub mod knative;
pub mod model;
pub mod output;
pub mod scenario;
pub mod sim;
pub mod validation;
pub mod workload;
