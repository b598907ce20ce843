//! knsim: a discrete-event simulator of Knative Serving.
#![deny(missing_docs)]

pub mod knload;
pub mod sim;
