//! Kubernetes itself, below Knative: resource quantities and what a pod
//! asks of a node. Knative code may use this module; nothing here knows
//! about Knative.

pub mod cluster_autoscaler;
pub mod quantity;
pub mod resources;
pub mod scale_down;
pub mod scheduler;
