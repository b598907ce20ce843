//! `per-function = true`: one `[[service]]` table that stands for one
//! Service per function an Azure Functions trace selection picks, so a
//! multi-tenant cluster can be built from a trace without listing every
//! function by hand.
//!
//! The table's single workload must replay an Azure trace (`azure-2019` or
//! `azure-2021`); its filters (`owner`, `app`, `function`, `trigger`) and
//! `top` choose the functions, ranked by invocations (in the replayed
//! minutes for 2019, in the whole file for 2021; ties keep file order).
//! Service `k` (1-based, in rank order) is named `<name>-<k>` and replays
//! only its function; with `copies = c`, each function gives `c` Services
//! `<name>-<k>-<j>` whose arrivals are drawn independently.

use super::problems::Problems;
use super::raw::RawService;
use crate::workload::ArrivalSpec;
use std::collections::BTreeMap;
use std::path::Path;

/// Most Services one `per-function` table may expand to.
const MAX_EXPANDED: usize = 10_000;

/// Replaces each `per-function` table by the Services it stands for.
pub(super) fn expand_per_function(
    p: &mut Problems,
    tables: Vec<RawService>,
    base_dir: &Path,
) -> Vec<RawService> {
    let mut out = Vec::new();
    for (i, t) in tables.into_iter().enumerate() {
        if t.per_function != Some(true) {
            if t.copies.is_some() {
                p.push(
                    format!("service[{i}].copies"),
                    "only means something with per-function = true",
                );
            }
            out.push(t);
            continue;
        }
        let at = |f: &str| format!("service[{i}].{f}");
        let copies = t.copies.unwrap_or(1);
        if copies == 0 {
            p.push(at("copies"), "must be at least 1");
            continue;
        }
        if t.workload.len() != 1 {
            p.push(
                at("workload"),
                "a per-function Service needs exactly one [[service.workload]], an Azure trace replay",
            );
            continue;
        }
        if t.traffic.is_some() {
            p.push(
                at("traffic"),
                "a per-function Service routes everything to its latest revision; leave traffic out",
            );
            continue;
        }
        let ranked = match rank(&t.workload[0].arrival, base_dir) {
            Ok(r) => r,
            Err(rule) => {
                p.push(at("workload[0].arrival"), rule);
                continue;
            }
        };
        if ranked.len() * copies as usize > MAX_EXPANDED {
            p.push(
                at("copies"),
                format!("would make more than {MAX_EXPANDED} Services"),
            );
            continue;
        }
        let base = t.name.clone().unwrap_or_else(|| "function".into());
        let src_name = t.workload[0]
            .name
            .clone()
            .unwrap_or_else(|| "workload".into());
        for (k, key) in ranked.iter().enumerate() {
            for c in 1..=copies {
                let name = if copies == 1 {
                    format!("{base}-{}", k + 1)
                } else {
                    format!("{base}-{}-{c}", k + 1)
                };
                let mut w = t.workload[0].clone();
                w.name = Some(format!("{src_name}-{name}"));
                select_one(&mut w.arrival, key);
                out.push(RawService {
                    name: Some(name),
                    revision: t.revision.clone(),
                    traffic: None,
                    workload: vec![w],
                    per_function: None,
                    copies: None,
                });
            }
        }
    }
    out
}

/// A function of a trace: (owner, app, function, trigger); 2021 traces
/// have only app and function.
type Key = [String; 4];

/// Narrows an Azure selection to exactly one function.
fn select_one(a: &mut ArrivalSpec, key: &Key) {
    match a {
        ArrivalSpec::Azure2019 {
            owner,
            app,
            function,
            trigger,
            top,
            ..
        } => {
            *owner = Some(key[0].clone());
            *app = Some(key[1].clone());
            *function = Some(key[2].clone());
            *trigger = Some(key[3].clone());
            *top = None;
        }
        ArrivalSpec::Azure2021 {
            app, function, top, ..
        } => {
            *app = Some(key[1].clone());
            *function = Some(key[2].clone());
            *top = None;
        }
        _ => {}
    }
}

fn ok(want: &Option<String>, have: &str) -> bool {
    want.as_deref().is_none_or(|w| w == have)
}

/// The selected functions, busiest first.
fn rank(a: &ArrivalSpec, base_dir: &Path) -> Result<Vec<Key>, String> {
    let file = match a {
        ArrivalSpec::Azure2019 { file, .. } | ArrivalSpec::Azure2021 { file, .. } => file,
        _ => {
            return Err(
                "a per-function Service replays an Azure trace: process = \"azure-2019\" or \"azure-2021\""
                    .into(),
            )
        }
    };
    let full = base_dir.join(file);
    let mut rdr = csv::ReaderBuilder::new()
        .from_path(&full)
        .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
    // (invocations, file order) per function.
    let mut counts: BTreeMap<Key, (u64, usize)> = BTreeMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: {e}", full.display()))?;
        let get = |i: usize| rec.get(i).unwrap_or("");
        let (key, add) = match a {
            ArrivalSpec::Azure2019 {
                owner,
                app,
                function,
                trigger,
                from_minute,
                to_minute,
                ..
            } => {
                if !(ok(owner, get(0))
                    && ok(app, get(1))
                    && ok(function, get(2))
                    && ok(trigger, get(3)))
                {
                    continue;
                }
                let from = from_minute.unwrap_or(1) as usize;
                let minutes = rec.len().saturating_sub(4);
                let to = to_minute.map_or(minutes, |t| t as usize);
                let mut sum = 0u64;
                for m in from..=to.min(minutes) {
                    sum += get(3 + m).parse::<u64>().map_err(|_| {
                        format!(
                            "{} line {}: minute {m} is not a count",
                            full.display(),
                            n + 2
                        )
                    })?;
                }
                let key = [get(0), get(1), get(2), get(3)].map(str::to_string);
                (key, sum)
            }
            ArrivalSpec::Azure2021 { app, function, .. } => {
                if !(ok(app, get(0)) && ok(function, get(1))) {
                    continue;
                }
                (["", get(0), get(1), ""].map(str::to_string), 1)
            }
            _ => unreachable!("checked above"),
        };
        let e = counts.entry(key).or_insert((0, n));
        e.0 += add;
    }
    if counts.is_empty() {
        return Err(format!(
            "no function of {} matches the selection",
            full.display()
        ));
    }
    let mut v: Vec<(Key, (u64, usize))> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
    let top = match a {
        ArrivalSpec::Azure2019 { top, .. } | ArrivalSpec::Azure2021 { top, .. } => *top,
        _ => None,
    };
    if let Some(n) = top {
        v.truncate(n as usize);
    }
    Ok(v.into_iter().map(|(k, _)| k).collect())
}
