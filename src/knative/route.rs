//! Traffic blocks of a Service: validation as in
//! `pkg/apis/serving/v1/route_validation.go` (in the context of a Service's
//! spec, where the configuration is implied), defaulting from
//! `route_defaults.go`, and the split computed by
//! `pkg/reconciler/route/traffic/traffic.go` (`BuildTrafficConfiguration`,
//! `consolidate`) as the ingress sees it.

use std::collections::BTreeMap;

use super::error::FieldError;
use crate::sim::{SimDuration, SimTime};

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
    let prefix_ok = prefix.is_none_or(|p| {
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

/// One revision's share inside a configuration rollout (`RevisionRollout`):
/// a share of the whole route's traffic, not of the configuration's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionRollout {
    /// Revision name.
    pub revision: String,
    /// Percent of the route's traffic.
    pub percent: u32,
}

/// Rollout state of the service's configuration within one traffic group
/// (`ConfigurationRollout`; a Service has exactly one configuration, so the
/// group's tag identifies it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigurationRollout {
    /// Tag of the group; empty for the default host.
    pub tag: String,
    /// Total percent the configuration's latestRevision target gets.
    pub percent: u32,
    /// Revisions oldest first; the last one is being rolled out to.
    pub revisions: Vec<RevisionRollout>,
    /// When the rollout of the newest revision began (`StartTime`).
    pub start_time: Option<SimTime>,
    /// Time between steps; zero until the ingress first became ready
    /// (`StepDuration`).
    pub step_duration: SimDuration,
    /// Percent moved per step (`StepSize`).
    pub step_size: u32,
    /// When the next step is due (`NextStepTime`).
    pub next_step_time: Option<SimTime>,
}

/// The rollout state of a route (`traffic.Rollout`), sorted by tag.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rollout {
    /// One entry per traffic group whose latestRevision target gets traffic.
    pub configurations: Vec<ConfigurationRollout>,
}

/// One traffic group as the route reconciler consolidates it: entries merged
/// by revision (the first entry's `latestRevision` is kept), a single entry
/// forced to 100 %.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupTarget {
    /// Resolved revision.
    pub revision: String,
    /// Consolidated percent.
    pub percent: u32,
    /// Whether the entry follows the latest ready revision.
    pub latest: bool,
}

/// Flattens a traffic block into its groups (`""` = default host, then one
/// per tag), as `BuildTrafficConfiguration` and `consolidate` do. `None`
/// when a latestRevision target exists but no revision is ready.
pub fn traffic_groups(
    targets: &[TrafficTarget],
    latest_ready: Option<&str>,
) -> Option<BTreeMap<String, Vec<GroupTarget>>> {
    let targets = defaulted(targets);
    let mut groups: BTreeMap<String, Vec<GroupTarget>> = BTreeMap::new();
    groups.insert(String::new(), Vec::new());
    for tt in &targets {
        let (revision, latest) = match non_empty(&tt.revision_name) {
            Some(r) => (r.to_string(), false),
            None => (latest_ready?.to_string(), true),
        };
        let percent = tt.percent.unwrap_or(0).clamp(0, 100) as u32;
        let entry = GroupTarget {
            revision,
            percent,
            latest,
        };
        groups
            .get_mut("")
            .expect("default group exists")
            .push(entry.clone());
        if let Some(tag) = non_empty(&tt.tag) {
            groups.entry(tag.to_string()).or_default().push(entry);
        }
    }
    for g in groups.values_mut() {
        let mut merged: Vec<GroupTarget> = Vec::new();
        for t in g.drain(..) {
            match merged.iter_mut().find(|m| m.revision == t.revision) {
                Some(m) => m.percent += t.percent,
                None => merged.push(t),
            }
        }
        if merged.len() == 1 {
            merged[0].percent = 100;
        }
        *g = merged;
    }
    Some(groups)
}

impl Rollout {
    /// `BuildRollout`: the steady-state rollout of the given groups, one
    /// configuration per group whose latestRevision entry has traffic.
    pub fn build(groups: &BTreeMap<String, Vec<GroupTarget>>) -> Rollout {
        let mut configurations = Vec::new();
        for (tag, targets) in groups {
            for t in targets.iter().filter(|t| t.latest && t.percent > 0) {
                configurations.push(ConfigurationRollout {
                    tag: tag.clone(),
                    percent: t.percent,
                    revisions: vec![RevisionRollout {
                        revision: t.revision.clone(),
                        percent: t.percent,
                    }],
                    start_time: None,
                    step_duration: SimDuration::ZERO,
                    step_size: 0,
                    next_step_time: None,
                });
            }
        }
        Rollout { configurations }
    }

    /// The rollout of group `tag`, if any.
    pub fn by_tag(&self, tag: &str) -> Option<&ConfigurationRollout> {
        self.configurations.iter().find(|c| c.tag == tag)
    }

    /// `ObserveReady`: once the ingress has programmed the first 1 %, fix
    /// the step size and duration of rollouts that just started.
    /// `duration_secs` is the rollout duration in whole seconds (> 0).
    pub fn observe_ready(&mut self, now: SimTime, duration_secs: f64) {
        for c in &mut self.configurations {
            if let (true, Some(start)) = (c.step_duration == SimDuration::ZERO, c.start_time) {
                // At least 1 s, as Knative guards against clock drift.
                let min_step = ((now.saturating_since(start)).as_secs_f64().ceil()).max(1.0);
                c.compute_properties(now, min_step, duration_secs);
            }
        }
    }

    /// `Step`: merges the goal (`self`, fresh from [`Rollout::build`]) with
    /// the previous state and returns the traffic shape to program, plus the
    /// time of the next step if a rollout is in progress.
    pub fn step(&self, prev: Option<&Rollout>, now: SimTime) -> (Rollout, Option<SimTime>) {
        let Some(prev) = prev.filter(|p| !p.configurations.is_empty()) else {
            return (self.clone(), None);
        };
        let mut out = Vec::new();
        let mut next: Option<SimTime> = None;
        for cur in &self.configurations {
            match prev.by_tag(&cur.tag) {
                // A new group: nothing to roll from.
                None => out.push(cur.clone()),
                Some(p) => match cur.percent {
                    0 => {}
                    1 => out.push(cur.clone()),
                    _ => {
                        let s = step_config(cur, p.clone(), now);
                        if let Some(t) = s.next_step_time {
                            next = Some(next.map_or(t, |n| n.min(t)));
                        }
                        out.push(s);
                    }
                },
            }
        }
        out.sort_by(|a, b| a.tag.cmp(&b.tag));
        (
            Rollout {
                configurations: out,
            },
            next,
        )
    }
}

impl ConfigurationRollout {
    /// `computeProperties`: number of steps, step size and step duration
    /// from the time the first 1 % took (`min_step` seconds, ≥ 1).
    fn compute_properties(&mut self, now: SimTime, min_step: f64, duration_secs: f64) {
        let duration = (duration_secs - min_step).max(1.0);
        let mut num_steps = (duration / min_step).max(1.0);
        let rem = self.percent as f64 - 1.0;
        if rem < num_steps {
            num_steps = rem;
        }
        // Go's math.Round rounds half away from zero, as f64::round does.
        let step_size = (rem / num_steps).round();
        let step_ns = duration / num_steps * 1e9;
        self.step_duration = SimDuration(step_ns as u64);
        self.step_size = step_size as u32;
        self.next_step_time = Some(SimTime(now.as_nanos() + step_ns as u64));
    }

    /// `stepRevisions`: moves `step_size` more percent to the newest revision,
    /// draining the newest older revisions first.
    fn step_revisions(&mut self, now: SimTime) {
        if self.next_step_time.is_none_or(|t| now < t) || self.revisions.len() < 2 {
            return;
        }
        let n = self.revisions.len();
        let mut remaining = self.step_size;
        let mut write = n - 1;
        let mut read = n as isize - 2;
        while remaining > 0 && read >= 0 {
            let r = &mut self.revisions[read as usize];
            if r.percent > remaining {
                r.percent -= remaining;
                break;
            }
            remaining -= r.percent;
            write -= 1;
            read -= 1;
        }
        self.revisions[write] = self.revisions[n - 1].clone();
        self.revisions[write].percent += self.step_size;
        if self.revisions[write].percent > self.percent {
            self.revisions[write].percent = self.percent;
        }
        self.revisions.truncate(write + 1);
        if self.revisions.len() > 1 {
            self.next_step_time = Some(now + self.step_duration);
        } else {
            self.start_time = None;
            self.step_duration = SimDuration::ZERO;
            self.step_size = 0;
            self.next_step_time = None;
        }
    }
}

/// `adjustPercentage`: a changed total for the configuration goes to (or is
/// taken from) its revisions, newest gaining, oldest losing.
fn adjust_percentage(goal: u32, cr: &mut ConfigurationRollout) {
    if goal == 0 {
        cr.revisions.clear();
        return;
    }
    if goal > cr.percent {
        if let Some(last) = cr.revisions.last_mut() {
            last.percent += goal - cr.percent;
        }
    } else if goal < cr.percent {
        let mut diff = cr.percent - goal;
        let mut i = 0;
        while diff > 0 && i < cr.revisions.len() {
            if cr.revisions[i].percent > diff {
                cr.revisions[i].percent -= diff;
                break;
            }
            diff -= cr.revisions[i].percent;
            i += 1;
        }
        cr.revisions.drain(..i);
    }
}

/// `stepConfig`.
fn step_config(
    goal: &ConfigurationRollout,
    mut prev: ConfigurationRollout,
    now: SimTime,
) -> ConfigurationRollout {
    let pc = prev.revisions.len();
    let mut ret = ConfigurationRollout {
        tag: goal.tag.clone(),
        percent: goal.percent,
        revisions: goal.revisions.clone(),
        start_time: None,
        step_duration: SimDuration::ZERO,
        step_size: 0,
        next_step_time: None,
    };
    // Knative compares against the previous newest revision as it was before
    // the percentage adjustment.
    let prev_newest = prev.revisions.last().map(|r| r.revision.clone());
    if pc > 0 {
        adjust_percentage(goal.percent, &mut prev);
    }
    if pc == 0 || prev_newest.as_deref() == Some(goal.revisions[0].revision.as_str()) {
        if prev.revisions.len() > 1 {
            ret.revisions = prev.revisions;
            ret.start_time = prev.start_time;
            ret.step_duration = prev.step_duration;
            ret.step_size = prev.step_size;
            ret.next_step_time = prev.next_step_time;
            if ret.step_size > 0 {
                ret.step_revisions(now);
            }
        }
        return ret;
    }
    ret.start_time = Some(now);
    if let Some(r) = prev.revisions.iter_mut().rev().find(|r| r.percent > 0) {
        r.percent -= 1;
    }
    let mut revisions: Vec<RevisionRollout> = prev
        .revisions
        .into_iter()
        .filter(|r| r.percent > 0)
        .collect();
    revisions.push(RevisionRollout {
        revision: goal.revisions[0].revision.clone(),
        percent: 1,
    });
    ret.revisions = revisions;
    ret
}

/// The traffic the ingress programs: each group's splits (revision,
/// percent), 0 % entries dropped, latestRevision entries expanded into their
/// rollout's revisions.
pub fn effective_splits(
    groups: &BTreeMap<String, Vec<GroupTarget>>,
    rollout: &Rollout,
) -> BTreeMap<String, Vec<(String, u32)>> {
    let mut out = BTreeMap::new();
    for (tag, targets) in groups {
        let mut splits: Vec<(String, u32)> = Vec::new();
        let mut add = |rev: &str, pct: u32| {
            if pct == 0 {
                return;
            }
            match splits.iter_mut().find(|(r, _)| r == rev) {
                Some((_, p)) => *p += pct,
                None => splits.push((rev.to_string(), pct)),
            }
        };
        for t in targets {
            if t.percent == 0 {
                continue;
            }
            match rollout.by_tag(tag).filter(|_| t.latest) {
                Some(c) if !c.revisions.is_empty() => {
                    for r in &c.revisions {
                        add(&r.revision, r.percent);
                    }
                }
                _ => add(&t.revision, t.percent),
            }
        }
        out.insert(tag.clone(), splits);
    }
    out
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

    fn cr(tag: &str, percent: u32, revs: &[(&str, u32)]) -> ConfigurationRollout {
        ConfigurationRollout {
            tag: tag.into(),
            percent,
            revisions: revs
                .iter()
                .map(|(r, p)| RevisionRollout {
                    revision: r.to_string(),
                    percent: *p,
                })
                .collect(),
            start_time: None,
            step_duration: SimDuration::ZERO,
            step_size: 0,
            next_step_time: None,
        }
    }

    fn shares(c: &ConfigurationRollout) -> Vec<u32> {
        c.revisions.iter().map(|r| r.percent).collect()
    }

    /// Knative's TestObserveReady, with its nanosecond timestamps.
    #[test]
    fn observe_ready_matches_knative() {
        let now = SimTime(200_620_092_020 + 1982);
        let olden = SimTime(198_219_841_988);
        let ancient = SimTime(14_921_812);
        let mk = |p: u32, start: Option<SimTime>| {
            let mut c = cr("", p, &[]);
            c.start_time = start;
            c
        };
        let mut has_step = mk(100, None);
        has_step.step_duration = SimDuration(11);
        let mut ro = Rollout {
            configurations: vec![
                has_step.clone(),
                mk(100, None),
                mk(100, Some(SimTime(200_620_092_020))),
                mk(100, Some(olden)),
                mk(75, Some(olden)),
                mk(50, Some(olden)),
                mk(13, Some(ancient)),
            ],
        };
        ro.observe_ready(now, 120.0);
        let c = &ro.configurations;
        assert_eq!(c[0], has_step);
        assert_eq!(c[1], mk(100, None));
        let got = |i: usize| {
            (
                c[i].step_duration.as_nanos(),
                c[i].step_size,
                c[i].next_step_time,
            )
        };
        let sec = 1_000_000_000u64;
        assert_eq!(
            got(2),
            (
                1_202_020_202,
                1,
                Some(SimTime(now.as_nanos() + 1_202_020_202))
            )
        );
        assert_eq!(
            got(3),
            (3 * sec, 3, Some(SimTime(now.as_nanos() + 3 * sec)))
        );
        assert_eq!(
            got(4),
            (
                3 * sec,
                75 / 40 + 1,
                Some(SimTime(now.as_nanos() + 3 * sec))
            )
        );
        assert_eq!(
            got(5),
            (3 * sec, 50 / 40, Some(SimTime(now.as_nanos() + 3 * sec)))
        );
        assert_eq!(got(6), (sec, 12, Some(SimTime(now.as_nanos() + sec))));
    }

    /// Knative's TestStepRevisions.
    #[test]
    fn step_revisions_matches_knative() {
        let with = |mut c: ConfigurationRollout, next: u64, size: u32, dur: u64| {
            c.next_step_time = Some(SimTime(next));
            c.step_size = size;
            c.step_duration = SimDuration(dur);
            c
        };
        // Too soon: nothing moves.
        let mut c = with(cr("", 75, &[("a", 10), ("b", 5), ("c", 60)]), 1984, 10, 0);
        c.step_revisions(SimTime(1982));
        assert_eq!(shares(&c), [10, 5, 60]);
        // Exact time.
        let mut c = with(cr("", 90, &[("a", 30), ("b", 60)]), 1984, 10, 55);
        c.step_revisions(SimTime(1984));
        assert_eq!(shares(&c), [20, 70]);
        assert_eq!(c.next_step_time, Some(SimTime(1984 + 55)));
        // Older revisions drained newest first, emptied ones dropped.
        let mut c = with(
            cr("", 90, &[("a", 22), ("b", 5), ("c", 3), ("d", 60)]),
            1984,
            10,
            55,
        );
        c.step_revisions(SimTime(1988));
        assert_eq!(shares(&c), [20, 70]);
        assert_eq!(c.revisions[1].revision, "d");
        assert_eq!(c.next_step_time, Some(SimTime(1988 + 55)));
        // Over the target: capped, and the rollout is over.
        let mut c = with(
            cr("", 15, &[("a", 5), ("b", 1), ("c", 1), ("d", 8)]),
            1984,
            10,
            77,
        );
        c.step_revisions(SimTime(1988));
        assert_eq!(shares(&c), [15]);
        assert_eq!((c.step_size, c.next_step_time), (0, None));
    }

    #[test]
    fn a_new_latest_revision_starts_at_one_percent_and_steps() {
        let groups = |newest: &str| traffic_groups(&[latest(100)], Some(newest)).unwrap();
        let prev = Rollout::build(&groups("r1"));
        assert_eq!(shares(&prev.configurations[0]), [100]);
        // r2 becomes ready at t = 10 s.
        let t0 = SimTime::from_secs(10);
        let (ro, next) = Rollout::build(&groups("r2")).step(Some(&prev), t0);
        assert_eq!(next, None);
        let c = &ro.configurations[0];
        assert_eq!(shares(c), [99, 1]);
        assert_eq!(c.start_time, Some(t0));
        let split = effective_splits(&groups("r2"), &ro);
        assert_eq!(
            split[""],
            vec![("r1".to_string(), 99), ("r2".to_string(), 1)]
        );
        // The ingress is ready a second later: 200 s → 99 steps of 1 %
        // every 199/99 s.
        let mut prev = ro;
        let t1 = SimTime::from_secs(11);
        prev.observe_ready(t1, 200.0);
        let c = &prev.configurations[0];
        assert_eq!(c.step_size, 1);
        assert_eq!(c.step_duration.as_nanos(), (199.0f64 / 99.0 * 1e9) as u64);
        let (ro, next) = Rollout::build(&groups("r2")).step(Some(&prev), t1);
        assert_eq!(shares(&ro.configurations[0]), [99, 1]);
        let t2 = next.expect("a step is due");
        let (ro, _) = Rollout::build(&groups("r2")).step(Some(&ro), t2);
        assert_eq!(shares(&ro.configurations[0]), [98, 2]);
        // A tag that follows the latest revision rolls out in its own group.
        let t = [tagged(latest(100), "latest")];
        let g1 = traffic_groups(&t, Some("r1")).unwrap();
        let g2 = traffic_groups(&t, Some("r2")).unwrap();
        let (ro, _) = Rollout::build(&g2).step(Some(&Rollout::build(&g1)), t0);
        let split = effective_splits(&g2, &ro);
        assert_eq!(split["latest"], split[""]);
        assert_eq!(split["latest"].len(), 2);
    }

    #[test]
    fn percent_changes_are_immediate_and_taken_from_the_oldest() {
        let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
        adjust_percentage(80, &mut c);
        assert_eq!(shares(&c), [20, 60]);
        let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
        adjust_percentage(25, &mut c);
        assert_eq!(shares(&c), [25]);
        assert_eq!(c.revisions[0].revision, "b");
        let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
        adjust_percentage(0, &mut c);
        assert!(c.revisions.is_empty());
    }
}
