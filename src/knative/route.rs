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
mod tests;
