//! Traffic blocks of a Service: validation as in
//! `pkg/apis/serving/v1/route_validation.go` (in the context of a Service's
//! spec, where the configuration is implied), defaulting from
//! `route_defaults.go`, and the split computed by
//! `pkg/reconciler/route/traffic/traffic.go` (`BuildTrafficConfiguration`,
//! `consolidate`) as the ingress sees it.

use std::collections::BTreeMap;

use super::error::FieldError;

/// One entry of a traffic block (`v1.TrafficTarget`).
#[derive(Clone, Debug, PartialEq, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficTarget {
    /// Optional tag: gives the target its own `{tag}-{route}` host.
    pub tag: Option<String>,
    /// Pinned revision.
    pub revision_name: Option<String>,
    /// Not allowed inside a Service (its configuration is implied).
    pub configuration_name: Option<String>,
    /// Follow the latest ready revision; defaults to "no revision name".
    pub latest_revision: Option<bool>,
    /// Share of the default host's traffic, 0..=100 (default 0).
    pub percent: Option<i64>,
    /// Only valid in status; rejected in a spec.
    pub url: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// A Service without a traffic block routes everything to its latest ready
/// revision (`RouteSpec.SetDefaults`).
fn defaulted(targets: &[TrafficTarget]) -> Vec<TrafficTarget> {
    if targets.is_empty() {
        vec![TrafficTarget {
            latest_revision: Some(true),
            percent: Some(100),
            ..TrafficTarget::default()
        }]
    } else {
        targets.to_vec()
    }
}

const DNS1035_LABEL_MAX: usize = 63;

/// Kubernetes' `IsDNS1035Label`: at most 63 characters of `[a-z0-9-]`,
/// starting with a letter and ending with a letter or digit.
pub fn is_dns1035_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= DNS1035_LABEL_MAX
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

fn dns1035_messages(s: &str) -> Vec<String> {
    let mut m = Vec::new();
    if s.len() > DNS1035_LABEL_MAX {
        m.push(format!(
            "must be no more than {DNS1035_LABEL_MAX} characters"
        ));
    }
    if !is_dns1035_label(&s[..s.len().min(DNS1035_LABEL_MAX)]) || s.is_empty() {
        m.push(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
             start with an alphabetic character, and end with an alphanumeric character \
             (e.g. 'my-name',  or 'abc-123', regex used for validation is \
             '[a-z]([-a-z0-9]*[a-z0-9])?')"
                .to_string(),
        );
    }
    m
}

/// Kubernetes' `IsQualifiedName` (optional DNS-subdomain prefix and a name of
/// at most 63 alphanumerics, `-`, `_`, `.`, alphanumeric at both ends).
fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    let prefix_ok = prefix.map_or(true, |p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.as_bytes()[0].is_ascii_alphanumeric()
                    && l.as_bytes()[l.len() - 1].is_ascii_alphanumeric()
                    && l.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            })
    });
    name_ok && prefix_ok
}

/// Webhook validation of a Service's traffic block; paths like
/// `traffic[1].percent` (prefix given by caller, e.g. "spec.traffic" or
/// "traffic"). Rules and texts as Knative's (percent range, sum 100, unique
/// DNS-1035 tags, revisionName vs latestRevision, configurationName
/// disallowed inside a Service, url disallowed in spec). An empty block is
/// first defaulted to 100 % latest revision, as Knative does.
pub fn validate_traffic(targets: &[TrafficTarget], path_prefix: &str) -> Vec<FieldError> {
    let targets = defaulted(targets);
    let mut errs = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sum: i64 = 0;
    for (i, tt) in targets.iter().enumerate() {
        let field = |f: &str| format!("{path_prefix}[{i}].{f}");
        let rev = non_empty(&tt.revision_name);

        // validateLatestRevision (only when set explicitly).
        if let Some(lr) = tt.latest_revision {
            if rev.is_some() == lr {
                errs.push(FieldError::new(
                    field("latestRevision"),
                    format!(
                        "may not set revisionName {:?} when latestRevision is {lr}",
                        rev.unwrap_or("")
                    ),
                ));
            }
        }
        // validateRevisionAndConfiguration with an implied configuration.
        if non_empty(&tt.configuration_name).is_some() {
            errs.push(FieldError::new(
                field("configurationName"),
                "must not set the field(s)",
            ));
        } else if let Some(r) = rev {
            if !is_qualified_name(r) {
                errs.push(FieldError::new(
                    field("revisionName"),
                    format!("invalid key name {r:?}"),
                ));
            }
        }
        // validateTrafficPercentage.
        if let Some(p) = tt.percent {
            if !(0..=100).contains(&p) {
                errs.push(FieldError::new(
                    field("percent"),
                    format!("expected 0 <= {p} <= 100"),
                ));
            }
            sum = sum.saturating_add(p);
        }
        // validateURL: never in a spec.
        if non_empty(&tt.url).is_some() {
            errs.push(FieldError::new(field("url"), "must not set the field(s)"));
        }

        if let Some(tag) = non_empty(&tt.tag) {
            let msgs = dns1035_messages(tag);
            if !msgs.is_empty() {
                errs.push(FieldError::new(
                    field("tag"),
                    format!("invalid value: not a DNS 1035 label: [{}]", msgs.join(" ")),
                ));
            }
            if let Some(&first) = seen.get(tag) {
                errs.push(FieldError::new(
                    field("tag"),
                    format!("Multiple definitions for {tag:?} (also {path_prefix}[{first}].tag)"),
                ));
            } else {
                seen.insert(tag, i);
            }
        }
    }
    if sum != 100 {
        errs.push(FieldError::new(
            path_prefix,
            format!("Traffic targets sum to {sum}, want 100"),
        ));
    }
    errs
}

/// §6.2: the default group (revision → summed percent, 0% entries omitted,
/// single entry forced to 100) and each tag's revision (100%).
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficConfig {
    /// The default host's split, in order of first appearance.
    pub default: Vec<(String, u32)>,
    /// Tag → the revision its host routes to.
    pub tags: BTreeMap<String, String>,
}

/// Flattens targets to revisions (latestRevision targets resolve to
/// `latest_ready`; None → FieldError) and groups them as the route
/// reconciler does.
pub fn compute_traffic(
    targets: &[TrafficTarget],
    latest_ready: Option<&str>,
) -> Result<TrafficConfig, FieldError> {
    let targets = defaulted(targets);
    let mut merged: Vec<(String, i64)> = Vec::new();
    let mut tags = BTreeMap::new();
    for (i, tt) in targets.iter().enumerate() {
        let rev = match non_empty(&tt.revision_name) {
            Some(r) => r.to_string(),
            None => latest_ready
                .ok_or_else(|| {
                    FieldError::new(
                        format!("traffic[{i}]"),
                        "targets the latest revision, but the configuration has no ready revision",
                    )
                })?
                .to_string(),
        };
        let pct = tt.percent.unwrap_or(0);
        match merged.iter_mut().find(|(r, _)| *r == rev) {
            Some((_, p)) => *p += pct,
            None => merged.push((rev.clone(), pct)),
        }
        if let Some(tag) = non_empty(&tt.tag) {
            tags.insert(tag.to_string(), rev);
        }
    }
    if merged.len() == 1 {
        merged[0].1 = 100;
    }
    let default = merged
        .into_iter()
        .filter(|(_, p)| *p > 0)
        .map(|(r, p)| (r, p.min(100) as u32))
        .collect();
    Ok(TrafficConfig { default, tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(name: &str, pct: i64) -> TrafficTarget {
        TrafficTarget {
            revision_name: Some(name.into()),
            percent: Some(pct),
            ..TrafficTarget::default()
        }
    }

    fn latest(pct: i64) -> TrafficTarget {
        TrafficTarget {
            latest_revision: Some(true),
            percent: Some(pct),
            ..TrafficTarget::default()
        }
    }

    fn tagged(mut t: TrafficTarget, tag: &str) -> TrafficTarget {
        t.tag = Some(tag.into());
        t
    }

    #[test]
    fn valid_blocks() {
        assert!(validate_traffic(&[], "spec.traffic").is_empty());
        assert!(
            validate_traffic(&[rev("a-1", 60), tagged(latest(40), "next")], "traffic").is_empty()
        );
        assert!(validate_traffic(
            &[rev("a-1", 100), tagged(rev("b-2", 0), "canary")],
            "traffic"
        )
        .is_empty());
    }

    #[test]
    fn sum_must_be_100() {
        let e = validate_traffic(&[rev("a", 50), rev("b", 40)], "spec.traffic");
        assert_eq!(
            e,
            vec![FieldError::new(
                "spec.traffic",
                "Traffic targets sum to 90, want 100"
            )]
        );
    }

    #[test]
    fn duplicate_and_bad_tags() {
        let e = validate_traffic(
            &[tagged(rev("a", 50), "x"), tagged(rev("b", 50), "x")],
            "traffic",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "traffic[1].tag");
        assert!(e[0].rule.starts_with("Multiple definitions for \"x\""));
        let e = validate_traffic(&[tagged(rev("a", 100), "Foo_bar")], "traffic");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "traffic[0].tag");
        assert!(e[0].rule.starts_with("invalid value: not a DNS 1035 label"));
        assert!(is_dns1035_label("canary-2"));
        assert!(!is_dns1035_label("2canary"));
        assert!(!is_dns1035_label("canary-"));
        assert!(!is_dns1035_label(&"a".repeat(64)));
    }

    #[test]
    fn revision_name_and_latest_revision() {
        let mut t = rev("a", 100);
        t.latest_revision = Some(true);
        let e = validate_traffic(&[t], "traffic");
        assert_eq!(
            e,
            vec![FieldError::new(
                "traffic[0].latestRevision",
                "may not set revisionName \"a\" when latestRevision is true"
            )]
        );
        let mut t = latest(100);
        t.latest_revision = Some(false);
        let e = validate_traffic(&[t], "traffic");
        assert_eq!(
            e[0].rule,
            "may not set revisionName \"\" when latestRevision is false"
        );
    }

    #[test]
    fn percent_range_configuration_and_url() {
        let e = validate_traffic(&[rev("a", 150), rev("b", -50)], "traffic");
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["traffic[0].percent", "traffic[1].percent"]);
        assert_eq!(e[0].rule, "expected 0 <= 150 <= 100");
        let mut t = latest(100);
        t.configuration_name = Some("cfg".into());
        t.url = Some("http://x".into());
        let e = validate_traffic(&[t], "traffic");
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["traffic[0].configurationName", "traffic[0].url"]);
    }

    #[test]
    fn splits_merge_omit_zero_and_force_single_to_100() {
        let c = compute_traffic(
            &[
                rev("a", 30),
                tagged(latest(50), "next"),
                rev("a", 20),
                tagged(rev("c", 0), "old"),
            ],
            Some("b"),
        )
        .unwrap();
        assert_eq!(
            c.default,
            vec![("a".to_string(), 50), ("b".to_string(), 50)]
        );
        assert_eq!(c.tags["next"], "b");
        assert_eq!(c.tags["old"], "c");
        // latest and a pin to the same revision merge into one entry → 100.
        let c = compute_traffic(&[latest(70), rev("b", 30)], Some("b")).unwrap();
        assert_eq!(c.default, vec![("b".to_string(), 100)]);
        let c = compute_traffic(&[], Some("r1")).unwrap();
        assert_eq!(c.default, vec![("r1".to_string(), 100)]);
        assert!(compute_traffic(&[latest(100)], None).is_err());
    }

    #[test]
    fn serde_is_camel_case_and_strict() {
        let t: TrafficTarget =
            serde_json::from_str(r#"{"revisionName":"a","percent":10,"latestRevision":false}"#)
                .unwrap();
        assert_eq!(t.revision_name.as_deref(), Some("a"));
        assert!(serde_json::from_str::<TrafficTarget>(r#"{"revision":"a"}"#).is_err());
    }
}
