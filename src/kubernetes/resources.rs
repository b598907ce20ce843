//! Container resource requests and limits, and what a pod asks of a node.
//!
//! Follows `k8s.io/component-helpers/resource` `PodRequests` (the request
//! the scheduler filters on and the cluster autoscaler counts) and
//! `pkg/scheduler/util` `GetNonzeroRequestForResource` (the request the
//! scoring plugins use), plus the API server's defaulting of requests from
//! limits (`pkg/apis/core/v1/defaults.go`) and its check that a request is
//! not above its limit (`pkg/apis/core/validation`).

use std::collections::BTreeMap;

use super::quantity::{parse_quantity, Quantity};

/// `DefaultMilliCPURequest`: the CPU a container without a CPU request is
/// assumed to use when nodes are scored.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;

/// `DefaultMemoryRequest` (200 Mi): the memory a container without a memory
/// request is assumed to use when nodes are scored.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 << 20;

/// One broken rule in a resources block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {rule}")]
pub struct ResourceError {
    /// Field path below the resources block, e.g. `requests.cpu`.
    pub path: String,
    /// The rule that was broken.
    pub rule: String,
}

/// CPU and memory of a requests or limits list; `None` when the key is
/// absent, which is not the same as an explicit zero for scoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceList {
    /// `cpu` in millicores.
    pub cpu_milli: Option<i64>,
    /// `memory` in bytes.
    pub memory_bytes: Option<i64>,
}

/// `resources` of one container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerResources {
    /// `resources.requests`.
    pub requests: ResourceList,
    /// `resources.limits`.
    pub limits: ResourceList,
}

/// What a pod asks of its node: CPU in millicores, memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodRequest {
    /// Millicores.
    pub cpu_milli: i64,
    /// Bytes.
    pub memory_bytes: i64,
}

impl std::ops::Add for PodRequest {
    type Output = PodRequest;
    fn add(self, o: PodRequest) -> PodRequest {
        PodRequest {
            cpu_milli: self.cpu_milli.saturating_add(o.cpu_milli),
            memory_bytes: self.memory_bytes.saturating_add(o.memory_bytes),
        }
    }
}

impl ContainerResources {
    /// Reads `requests`/`limits` maps of quantity strings (`cpu`, `memory`;
    /// `ephemeral-storage` is accepted and not modelled), applies the API
    /// server's defaulting of an absent request from its limit, and checks
    /// that no request is above its limit.
    pub fn parse(
        requests: &BTreeMap<String, String>,
        limits: &BTreeMap<String, String>,
    ) -> Result<ContainerResources, Vec<ResourceError>> {
        Self::parse_as_written(requests, limits)?.admitted()
    }

    /// Reads the maps as [`Self::parse`] does, without defaulting or checks.
    pub fn parse_as_written(
        requests: &BTreeMap<String, String>,
        limits: &BTreeMap<String, String>,
    ) -> Result<ContainerResources, Vec<ResourceError>> {
        let mut errs = Vec::new();
        let requests = read_list("requests", requests, &mut errs);
        let limits = read_list("limits", limits, &mut errs);
        if errs.is_empty() {
            Ok(ContainerResources { requests, limits })
        } else {
            Err(errs)
        }
    }

    /// What the API server stores: requests defaulted from limits, then
    /// checked against them.
    pub fn admitted(mut self) -> Result<ContainerResources, Vec<ResourceError>> {
        self.default_requests_from_limits();
        self.check_requests_within_limits()?;
        Ok(self)
    }

    /// Fills each absent request and limit from `defaults`.
    pub fn fill_absent_from(&mut self, defaults: &ContainerResources) {
        let fill = |v: &mut Option<i64>, d: Option<i64>| {
            if v.is_none() {
                *v = d;
            }
        };
        fill(&mut self.requests.cpu_milli, defaults.requests.cpu_milli);
        fill(
            &mut self.requests.memory_bytes,
            defaults.requests.memory_bytes,
        );
        fill(&mut self.limits.cpu_milli, defaults.limits.cpu_milli);
        fill(&mut self.limits.memory_bytes, defaults.limits.memory_bytes);
    }

    /// A container whose limit is set and request is not requests its limit.
    pub fn default_requests_from_limits(&mut self) {
        if self.requests.cpu_milli.is_none() {
            self.requests.cpu_milli = self.limits.cpu_milli;
        }
        if self.requests.memory_bytes.is_none() {
            self.requests.memory_bytes = self.limits.memory_bytes;
        }
    }

    /// The API server refuses a request above its limit.
    pub fn check_requests_within_limits(&self) -> Result<(), Vec<ResourceError>> {
        let mut errs = Vec::new();
        let pairs = [
            ("cpu", self.requests.cpu_milli, self.limits.cpu_milli, 1),
            (
                "memory",
                self.requests.memory_bytes,
                self.limits.memory_bytes,
                1000,
            ),
        ];
        for (name, req, lim, to_milli) in pairs {
            if let (Some(r), Some(l)) = (req, lim) {
                if r > l {
                    errs.push(ResourceError {
                        path: format!("requests.{name}"),
                        rule: format!(
                            "must be less than or equal to {name} limit of {}",
                            Quantity::from_milli(l.saturating_mul(to_milli))
                        ),
                    });
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// The request as `PodRequests` counts it: an absent request is zero.
    pub fn request(&self) -> PodRequest {
        PodRequest {
            cpu_milli: self.requests.cpu_milli.unwrap_or(0),
            memory_bytes: self.requests.memory_bytes.unwrap_or(0),
        }
    }

    /// The request as the scoring plugins count it: an absent request is
    /// the scheduler's default, an explicit zero stays zero.
    pub fn request_nonzero(&self) -> PodRequest {
        PodRequest {
            cpu_milli: self.requests.cpu_milli.unwrap_or(DEFAULT_MILLI_CPU_REQUEST),
            memory_bytes: self.requests.memory_bytes.unwrap_or(DEFAULT_MEMORY_REQUEST),
        }
    }
}

fn read_list(
    which: &str,
    m: &BTreeMap<String, String>,
    errs: &mut Vec<ResourceError>,
) -> ResourceList {
    let mut l = ResourceList::default();
    for (k, v) in m {
        let path = format!("{which}.{k}");
        let q = match parse_quantity(v) {
            Ok(q) => q,
            Err(e) => {
                errs.push(ResourceError {
                    path,
                    rule: e.to_string(),
                });
                continue;
            }
        };
        match k.as_str() {
            "cpu" => l.cpu_milli = Some(q.milli_value()),
            "memory" => l.memory_bytes = Some(q.value()),
            "ephemeral-storage" => {}
            _ => errs.push(ResourceError {
                path,
                rule: "unknown resource; the simulator reads cpu and memory \
                       (ephemeral-storage is accepted and not modelled)"
                    .into(),
            }),
        }
    }
    l
}

/// The resources of a Knative revision's pod: the user container and the
/// queue-proxy sidecar Knative adds beside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodResources {
    /// The user container (`spec.template.spec.containers[0].resources`).
    pub user: ContainerResources,
    /// The queue-proxy sidecar.
    pub queue_proxy: ContainerResources,
}

impl PodResources {
    /// `PodRequests`: what the scheduler's Filter and the cluster autoscaler
    /// count (Knative pods have no init containers or pod overhead).
    pub fn request(&self) -> PodRequest {
        self.user.request() + self.queue_proxy.request()
    }

    /// The non-zero request the scoring plugins use.
    pub fn request_nonzero(&self) -> PodRequest {
        self.user.request_nonzero() + self.queue_proxy.request_nonzero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_default_knative_pod_requests_only_the_queue_proxy_cpu() {
        // cluster-capacity-spec §1.3's table: nothing configured, queue-proxy
        // at config-deployment's 25m.
        let pod = PodResources {
            user: ContainerResources::default(),
            queue_proxy: ContainerResources {
                requests: ResourceList {
                    cpu_milli: Some(25),
                    memory_bytes: None,
                },
                limits: ResourceList::default(),
            },
        };
        assert_eq!(
            pod.request(),
            PodRequest {
                cpu_milli: 25,
                memory_bytes: 0
            }
        );
        assert_eq!(
            pod.request_nonzero(),
            PodRequest {
                cpu_milli: 125,
                memory_bytes: 400 << 20
            }
        );
    }

    #[test]
    fn an_explicit_zero_is_not_replaced_by_the_scoring_default() {
        let c =
            ContainerResources::parse(&map(&[("cpu", "0"), ("memory", "0")]), &map(&[])).unwrap();
        assert_eq!(c.request_nonzero(), PodRequest::default());
    }

    #[test]
    fn a_limit_without_a_request_becomes_the_request() {
        let c =
            ContainerResources::parse(&map(&[]), &map(&[("cpu", "1"), ("memory", "1Gi")])).unwrap();
        assert_eq!(c.requests.cpu_milli, Some(1000));
        assert_eq!(c.requests.memory_bytes, Some(1 << 30));
    }

    #[test]
    fn a_request_above_its_limit_or_a_bad_quantity_is_refused() {
        let e =
            ContainerResources::parse(&map(&[("cpu", "2")]), &map(&[("cpu", "1")])).unwrap_err();
        assert_eq!(e[0].path, "requests.cpu");
        assert!(e[0].rule.contains("less than or equal to cpu limit of 1"));
        let e = ContainerResources::parse(&map(&[("memory", "1 Gi"), ("gpu", "1")]), &map(&[]))
            .unwrap_err();
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["requests.gpu", "requests.memory"]);
    }
}
