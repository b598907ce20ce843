//! The queue-proxy sidecar's resources: a port of knative/serving
//! `pkg/reconciler/revision/resources/queue.go` (`createQueueResources`,
//! `computeResourceRequirements`) and `resourceboundary.go`, with the
//! annotation checks of `pkg/apis/serving/v1/revision_validation.go`
//! (`validateQueueSidecarResourceAnnotations`).

use std::collections::BTreeMap;

use crate::knative::error::FieldError;
use crate::kubernetes::quantity::{parse_quantity, Quantity};
use crate::kubernetes::resources::{ContainerResources, ResourceList};

/// The deprecated annotation that sizes the sidecar as a percentage of the
/// user container, and its legacy camel-case spelling.
pub const PERCENTAGE_KEYS: [&str; 2] = [
    "queue.sidecar.serving.knative.dev/resource-percentage",
    "queue.sidecar.serving.knative.dev/resourcePercentage",
];
/// Explicit sidecar CPU request.
pub const CPU_REQUEST_KEY: &str = "queue.sidecar.serving.knative.dev/cpu-resource-request";
/// Explicit sidecar CPU limit.
pub const CPU_LIMIT_KEY: &str = "queue.sidecar.serving.knative.dev/cpu-resource-limit";
/// Explicit sidecar memory request.
pub const MEMORY_REQUEST_KEY: &str = "queue.sidecar.serving.knative.dev/memory-resource-request";
/// Explicit sidecar memory limit.
pub const MEMORY_LIMIT_KEY: &str = "queue.sidecar.serving.knative.dev/memory-resource-limit";
/// Ephemeral storage annotations: validated, not modelled.
pub const EPHEMERAL_KEYS: [&str; 2] = [
    "queue.sidecar.serving.knative.dev/ephemeral-storage-resource-request",
    "queue.sidecar.serving.knative.dev/ephemeral-storage-resource-limit",
];

/// `QueueSidecarCPURequestDefault`: the one sidecar value config-deployment
/// sets when it is not configured.
pub const QUEUE_SIDECAR_CPU_REQUEST_DEFAULT_MILLI: i64 = 25;

/// The sidecar requests and limits of `config-deployment`
/// (`queue-sidecar-cpu-request` and friends), in millicores and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSidecarConfig {
    /// `queue-sidecar-cpu-request` and `queue-sidecar-memory-request`.
    pub requests: ResourceList,
    /// `queue-sidecar-cpu-limit` and `queue-sidecar-memory-limit`.
    pub limits: ResourceList,
}

impl Default for QueueSidecarConfig {
    fn default() -> Self {
        QueueSidecarConfig {
            requests: ResourceList {
                cpu_milli: Some(QUEUE_SIDECAR_CPU_REQUEST_DEFAULT_MILLI),
                memory_bytes: None,
            },
            limits: ResourceList::default(),
        }
    }
}

impl QueueSidecarConfig {
    /// The `config-deployment` keys read here.
    pub const KEYS: [&'static str; 4] = [
        "queue-sidecar-cpu-request",
        "queue-sidecar-cpu-limit",
        "queue-sidecar-memory-request",
        "queue-sidecar-memory-limit",
    ];

    /// Reads the keys of [`Self::KEYS`] present in `m`.
    pub fn from_map(m: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut c = QueueSidecarConfig::default();
        let mut errs = Vec::new();
        for key in Self::KEYS {
            let Some(v) = m.get(key) else { continue };
            let q = match parse_quantity(v) {
                Ok(q) => q,
                Err(e) => {
                    errs.push(FieldError::new(key, e.to_string()));
                    continue;
                }
            };
            match key {
                "queue-sidecar-cpu-request" => c.requests.cpu_milli = Some(q.milli_value()),
                "queue-sidecar-cpu-limit" => c.limits.cpu_milli = Some(q.milli_value()),
                "queue-sidecar-memory-request" => c.requests.memory_bytes = Some(q.value()),
                _ => c.limits.memory_bytes = Some(q.value()),
            }
        }
        if errs.is_empty() {
            Ok(c)
        } else {
            Err(errs)
        }
    }
}

/// `resourceBoundary` of the percentage annotation, in milli-units.
struct Boundary {
    min: i64,
    max: i64,
}

const MI_MILLI: i64 = 1000 << 20;
const REQUEST_CPU: Boundary = Boundary { min: 25, max: 100 };
const LIMIT_CPU: Boundary = Boundary { min: 40, max: 500 };
const REQUEST_MEMORY: Boundary = Boundary {
    min: 50 * MI_MILLI,
    max: 200 * MI_MILLI,
};
const LIMIT_MEMORY: Boundary = Boundary {
    min: 200 * MI_MILLI,
    max: 500 * MI_MILLI,
};

/// `computeResourceRequirements`: a fraction of the user container's value
/// (in milli-units), clamped; `None` when the user value is zero or absent.
fn scaled(user_milli: Option<i64>, fraction: f64, b: &Boundary) -> Option<i64> {
    let v = user_milli.filter(|v| *v != 0)?;
    let scaled = v as f64 * fraction;
    // Go's int64 conversion of an in-range float truncates toward zero.
    let scaled = if scaled < i64::MAX as f64 {
        scaled as i64
    } else {
        i64::MAX
    };
    Some(scaled.clamp(b.min, b.max))
}

fn first<'a>(annotations: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a String> {
    keys.iter().find_map(|k| annotations.get(*k))
}

/// `validateQueueSidecarResourceAnnotations`: the percentage must be a
/// number in [0.1, 100], every quantity annotation a quantity. (Knative
/// also warns that the percentage is deprecated; a warning is not an error.)
pub fn validate_annotations(annotations: &BTreeMap<String, String>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some((k, v)) = PERCENTAGE_KEYS
        .iter()
        .find_map(|k| annotations.get(*k).map(|v| (*k, v)))
    {
        match v.parse::<f64>() {
            Ok(p) if (0.1..=100.0).contains(&p) => {}
            Ok(p) => errs.push(FieldError::new(
                k,
                format!("expected 0.1 <= {p} <= 100: the queue-proxy percentage"),
            )),
            Err(_) => errs.push(FieldError::new(k, format!("invalid value: {v}"))),
        }
    }
    let quantity_keys = [
        CPU_REQUEST_KEY,
        CPU_LIMIT_KEY,
        MEMORY_REQUEST_KEY,
        MEMORY_LIMIT_KEY,
        EPHEMERAL_KEYS[0],
        EPHEMERAL_KEYS[1],
    ];
    for k in quantity_keys {
        if let Some(v) = annotations.get(k) {
            if let Err(e) = parse_quantity(v) {
                errs.push(FieldError::new(k, format!("invalid value: {e}")));
            }
        }
    }
    errs
}

/// The sidecar as the pod runs it: [`create_queue_resources`], then the API
/// server's defaulting of an absent request from its limit.
pub fn queue_proxy_resources(
    cfg: &QueueSidecarConfig,
    annotations: &BTreeMap<String, String>,
    user: &ContainerResources,
) -> ContainerResources {
    let mut qp = create_queue_resources(cfg, annotations, user);
    qp.default_requests_from_limits();
    qp
}

/// `createQueueResources` with `queueproxy.resource-defaults` disabled
/// (config-features' default): config-deployment's values, then the
/// percentage annotation, then the explicit annotations, each overriding the
/// one before. Call [`validate_annotations`] first; unparsable values are
/// skipped here, as upstream skips them.
pub fn create_queue_resources(
    cfg: &QueueSidecarConfig,
    annotations: &BTreeMap<String, String>,
    user: &ContainerResources,
) -> ContainerResources {
    let mut qp = ContainerResources {
        requests: cfg.requests,
        limits: cfg.limits,
    };
    let fraction = first(annotations, &PERCENTAGE_KEYS)
        .and_then(|v| v.parse::<f64>().ok())
        .map(|p| p / 100.0);
    let to_milli = |bytes: Option<i64>| bytes.map(|b| b.saturating_mul(1000));
    let bytes = |milli: i64| Quantity::from_milli(milli).value();
    if let Some(f) = fraction {
        if let Some(v) = scaled(user.requests.cpu_milli, f, &REQUEST_CPU) {
            qp.requests.cpu_milli = Some(v);
        }
        if let Some(v) = scaled(user.limits.cpu_milli, f, &LIMIT_CPU) {
            qp.limits.cpu_milli = Some(v);
        }
        if let Some(v) = scaled(to_milli(user.requests.memory_bytes), f, &REQUEST_MEMORY) {
            qp.requests.memory_bytes = Some(bytes(v));
        }
        if let Some(v) = scaled(to_milli(user.limits.memory_bytes), f, &LIMIT_MEMORY) {
            qp.limits.memory_bytes = Some(bytes(v));
        }
    }
    let ann = |k: &str| annotations.get(k).and_then(|v| parse_quantity(v).ok());
    if let Some(q) = ann(CPU_REQUEST_KEY) {
        qp.requests.cpu_milli = Some(q.milli_value());
    }
    if let Some(q) = ann(CPU_LIMIT_KEY) {
        qp.limits.cpu_milli = Some(q.milli_value());
    }
    if let Some(q) = ann(MEMORY_REQUEST_KEY) {
        qp.requests.memory_bytes = Some(q.value());
    }
    if let Some(q) = ann(MEMORY_LIMIT_KEY) {
        qp.limits.memory_bytes = Some(q.value());
    }
    qp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn user(cpu_req: i64, cpu_lim: i64, mem_req: i64, mem_lim: i64) -> ContainerResources {
        ContainerResources {
            requests: ResourceList {
                cpu_milli: Some(cpu_req),
                memory_bytes: Some(mem_req),
            },
            limits: ResourceList {
                cpu_milli: Some(cpu_lim),
                memory_bytes: Some(mem_lim),
            },
        }
    }

    #[test]
    fn defaults_request_25m_cpu_and_nothing_else() {
        let qp = queue_proxy_resources(
            &QueueSidecarConfig::default(),
            &BTreeMap::new(),
            &ContainerResources::default(),
        );
        assert_eq!(qp.requests.cpu_milli, Some(25));
        assert_eq!(qp.requests.memory_bytes, None);
        assert_eq!(qp.limits, ResourceList::default());
    }

    #[test]
    fn config_deployment_keys_are_read_as_quantities() {
        let c = QueueSidecarConfig::from_map(&map(&[
            ("queue-sidecar-cpu-request", "0.1"),
            ("queue-sidecar-memory-limit", "1Gi"),
        ]))
        .unwrap();
        assert_eq!(c.requests.cpu_milli, Some(100));
        assert_eq!(c.limits.memory_bytes, Some(1 << 30));
        let e =
            QueueSidecarConfig::from_map(&map(&[("queue-sidecar-cpu-limit", "lots")])).unwrap_err();
        assert_eq!(e[0].path, "queue-sidecar-cpu-limit");
    }

    fn res(req: (Option<i64>, Option<i64>), lim: (Option<i64>, Option<i64>)) -> ContainerResources {
        ContainerResources {
            requests: ResourceList {
                cpu_milli: req.0,
                memory_bytes: req.1,
            },
            limits: ResourceList {
                cpu_milli: lim.0,
                memory_bytes: lim.1,
            },
        }
    }

    const MI: i64 = 1 << 20;
    const GI: i64 = 1 << 30;
    /// The zero `deployment.Config{}` several upstream cases use.
    const NO_CONFIG: QueueSidecarConfig = QueueSidecarConfig {
        requests: ResourceList {
            cpu_milli: None,
            memory_bytes: None,
        },
        limits: ResourceList {
            cpu_milli: None,
            memory_bytes: None,
        },
    };

    /// queue_test.go `TestMakeQueueContainerWithPercentageAnnotation`.
    #[test]
    fn golden_make_queue_container_with_percentage_annotation() {
        let dc_25m = QueueSidecarConfig::default();
        let cases = [
            (
                "resources percentage in annotations",
                NO_CONFIG,
                "20",
                res((None, None), (Some(2000), Some(2 * GI))),
                // 0.4 and 0.4Gi (0.4Gi = 429496729.6 bytes, rounded up).
                res((None, None), (Some(400), Some(429_496_730))),
            ),
            (
                "resources percentage in annotations smaller than min allowed",
                NO_CONFIG,
                "0.2",
                res((Some(50), Some(128 * MI)), (None, None)),
                res((Some(25), Some(50 * MI)), (None, None)),
            ),
            (
                "invalid resources percentage in annotations uses defaults",
                dc_25m,
                "foo",
                res((Some(50), Some(128 * MI)), (None, None)),
                res((Some(25), None), (None, None)),
            ),
        ];
        for (name, dc, pct, user, want) in cases {
            let got = create_queue_resources(&dc, &map(&[(PERCENTAGE_KEYS[0], pct)]), &user);
            assert_eq!(got, want, "{name}");
        }
    }

    /// queue_test.go `TestMakeQueueContainerWithResourceAnnotations`.
    #[test]
    fn golden_make_queue_container_with_resource_annotations() {
        let got = create_queue_resources(
            &NO_CONFIG,
            &map(&[
                (CPU_REQUEST_KEY, "1"),
                (CPU_LIMIT_KEY, "2"),
                (MEMORY_REQUEST_KEY, "1Gi"),
                (MEMORY_LIMIT_KEY, "2Gi"),
                (EPHEMERAL_KEYS[0], "500Mi"),
                (EPHEMERAL_KEYS[1], "600Mi"),
            ]),
            &ContainerResources::default(),
        );
        assert_eq!(
            got,
            res((Some(1000), Some(GI)), (Some(2000), Some(2 * GI))),
            "resources defined via annotations"
        );
        let got = create_queue_resources(
            &NO_CONFIG,
            &map(&[
                (CPU_REQUEST_KEY, "zzz"),
                (CPU_LIMIT_KEY, "2"),
                (MEMORY_REQUEST_KEY, "Gdx"),
                (MEMORY_LIMIT_KEY, "2Gi"),
            ]),
            &ContainerResources::default(),
        );
        assert_eq!(
            got,
            res((None, None), (Some(2000), Some(2 * GI))),
            "resources defined via annotations with bad values ignored"
        );
        let got = create_queue_resources(
            &NO_CONFIG,
            &map(&[
                (CPU_LIMIT_KEY, "1"),
                (MEMORY_LIMIT_KEY, "4Gi"),
                (PERCENTAGE_KEYS[0], "50"),
            ]),
            &res((Some(1000), Some(GI)), (Some(2000), Some(2 * GI))),
        );
        assert_eq!(
            got,
            res((Some(100), Some(200 * MI)), (Some(1000), Some(4 * GI))),
            "resources defined via annotations mixed with percentage annotation"
        );
    }

    #[test]
    fn percentage_hits_every_minimum_on_small_values() {
        let qp = queue_proxy_resources(
            &QueueSidecarConfig::default(),
            &map(&[(PERCENTAGE_KEYS[1], "1")]),
            &user(100, 200, 64 * MI, 128 * MI),
        );
        assert_eq!(qp.requests.cpu_milli, Some(25));
        assert_eq!(qp.limits.cpu_milli, Some(40));
        assert_eq!(qp.requests.memory_bytes, Some(50 * MI));
        assert_eq!(qp.limits.memory_bytes, Some(200 * MI));
    }

    #[test]
    fn a_zero_user_value_leaves_the_config_value() {
        let qp = queue_proxy_resources(
            &QueueSidecarConfig::default(),
            &map(&[(PERCENTAGE_KEYS[0], "50")]),
            &ContainerResources::default(),
        );
        assert_eq!(qp.requests.cpu_milli, Some(25));
        assert_eq!(qp.limits.cpu_milli, None);
    }

    #[test]
    fn explicit_annotations_win_over_percentage_and_config() {
        let qp = queue_proxy_resources(
            &QueueSidecarConfig::default(),
            &map(&[
                (PERCENTAGE_KEYS[0], "50"),
                (CPU_REQUEST_KEY, "300m"),
                (MEMORY_LIMIT_KEY, "100Mi"),
            ]),
            &user(1000, 1000, 1 << 30, 1 << 30),
        );
        assert_eq!(qp.requests.cpu_milli, Some(300));
        assert_eq!(qp.limits.memory_bytes, Some(100 << 20));
    }

    #[test]
    fn a_sidecar_limit_without_a_request_becomes_its_request() {
        let qp = queue_proxy_resources(
            &QueueSidecarConfig::default(),
            &map(&[(MEMORY_LIMIT_KEY, "300Mi")]),
            &ContainerResources::default(),
        );
        assert_eq!(qp.requests.memory_bytes, Some(300 << 20));
    }

    #[test]
    fn bad_annotations_are_reported_with_their_keys() {
        let e = validate_annotations(&map(&[
            (PERCENTAGE_KEYS[0], "0.05"),
            (CPU_LIMIT_KEY, "one"),
        ]));
        let keys: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(keys, [PERCENTAGE_KEYS[0], CPU_LIMIT_KEY]);
        assert!(validate_annotations(&map(&[(PERCENTAGE_KEYS[1], "100")])).is_empty());
    }
}
