//! `decisions.svg` and the report's table of scaling steps, from the
//! `decisions.csv` that `knsim run --decisions` writes: what the decider
//! wished before its rate limits, what it decided, what the PodAutoscaler
//! then asked of the Deployment.

use super::draw::*;
use super::Chart;
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::Path;

/// One row of `decisions.csv` (the columns the charts read).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct DecisionRow {
    /// Simulated seconds.
    pub time_s: f64,
    /// Revision name.
    pub revision: String,
    /// `tick` or `reconcile`.
    pub kind: String,
    /// Pods ready then.
    pub ready_pods: u32,
    /// The decider's desired scale.
    pub desired: i64,
    /// Stable-window metric.
    pub observed_stable: Option<f64>,
    /// Panic-window metric.
    pub observed_panic: Option<f64>,
    /// Stable wish before the rate limits.
    pub wanted_stable: Option<i64>,
    /// Panic wish before the rate limits.
    pub wanted_panic: Option<i64>,
    /// 1 in panic mode after the tick.
    pub panic: Option<u8>,
    /// 1 when panic mode began at this tick.
    pub panic_entered: Option<u8>,
    /// The reconcile's `want`.
    pub want: Option<i64>,
    /// Replicas set by the reconcile (empty = left alone).
    pub replicas_set: Option<u32>,
    /// Replicas after the reconcile.
    pub replicas: Option<u32>,
    /// Active condition before the reconcile.
    pub pa_state: Option<String>,
    /// How long it had held, s.
    pub pa_state_for_s: Option<f64>,
    /// SKS mode after the reconcile.
    pub sks_mode: Option<String>,
}

/// The decision log of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionLog {
    /// Rows in file order.
    pub rows: Vec<DecisionRow>,
}

impl DecisionLog {
    /// Reads `dir/decisions.csv`; `None` if the run wrote none.
    pub fn load(dir: &Path) -> Result<Option<DecisionLog>, PlotError> {
        let p = dir.join("decisions.csv");
        if !p.exists() {
            return Ok(None);
        }
        let mut rdr = csv::Reader::from_path(&p).map_err(|source| PlotError::Csv {
            path: p.clone(),
            source,
        })?;
        let rows = rdr
            .deserialize()
            .collect::<Result<Vec<DecisionRow>, _>>()
            .map_err(|source| PlotError::Csv { path: p, source })?;
        Ok(Some(DecisionLog { rows }))
    }

    fn revisions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !names.contains(&r.revision.as_str()) {
                names.push(&r.revision);
            }
        }
        names
    }
}

const WISH_COLOR: RGBColor = RGBColor(150, 150, 150);
const PANIC_WISH_COLOR: RGBColor = RGBColor(230, 120, 120);
const DESIRED_COLOR: RGBColor = RGBColor(30, 30, 30);
const WANT_COLOR: RGBColor = RGBColor(230, 159, 0);
const REPLICAS_COLOR: RGBColor = RGBColor(0, 114, 178);

/// The decision chart: per revision, the decider's wishes before the rate
/// limits, its desired scale, each reconcile's `want` and the replicas it
/// left, over `duration` simulated seconds.
pub fn decisions_chart(log: &DecisionLog, duration: f64) -> Result<Chart, PlotError> {
    const NAME: &str = "decisions.svg";
    let names = log.revisions();
    if names.is_empty() {
        return Err(PlotError::NoData("decisions.csv has no rows".into()));
    }
    let mut svg = String::new();
    {
        let n = names.len();
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, n as u32 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        for (name, (plot, leg)) in names.iter().zip(panels(&root, n)) {
            let mine: Vec<&DecisionRow> = log.rows.iter().filter(|r| r.revision == *name).collect();
            let ticks: Vec<&&DecisionRow> = mine.iter().filter(|r| r.kind == "tick").collect();
            let recs: Vec<&&DecisionRow> = mine.iter().filter(|r| r.kind == "reconcile").collect();
            let val = |v: Option<i64>| v.map(|x| x.max(0) as f64);
            let top = mine
                .iter()
                .flat_map(|r| {
                    [
                        val(r.wanted_stable),
                        val(r.wanted_panic),
                        Some(r.desired.max(0) as f64),
                        val(r.want),
                        r.replicas.map(f64::from),
                    ]
                })
                .flatten()
                .fold(0.0, f64::max);
            let ymax = (top * 1.08).ceil().max(2.0);
            let mut ch = ChartBuilder::on(&plot)
                .caption(format!("Autoscaler decisions: {name}"), (FONT, 24))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..duration.max(1.0), 0.0..ymax)
                .map_err(draw_err(NAME))?;
            mesh_style(&mut ch, "time (s)", "pods", Some(&num_label), None, NAME)?;
            let t: Vec<f64> = ticks.iter().map(|r| r.time_s).collect();
            draw_lines(
                &mut ch,
                &t,
                ticks.iter().map(|r| val(r.wanted_stable)),
                WISH_COLOR.stroke_width(1),
                NAME,
            )?;
            draw_lines(
                &mut ch,
                &t,
                ticks.iter().map(|r| val(r.wanted_panic)),
                PANIC_WISH_COLOR.stroke_width(1),
                NAME,
            )?;
            draw_lines(
                &mut ch,
                &t,
                ticks
                    .iter()
                    .map(|r| (r.desired >= 0).then_some(r.desired as f64)),
                DESIRED_COLOR.stroke_width(2),
                NAME,
            )?;
            let rt: Vec<f64> = recs.iter().map(|r| r.time_s).collect();
            draw_lines(
                &mut ch,
                &rt,
                recs.iter().map(|r| r.replicas.map(f64::from)),
                REPLICAS_COLOR.stroke_width(3),
                NAME,
            )?;
            ch.draw_series(recs.iter().filter_map(|r| {
                let w = val(r.want)?;
                Some(Circle::new((r.time_s, w), 4, WANT_COLOR.filled()))
            }))
            .map_err(draw_err(NAME))?;
            ch.draw_series(
                ticks
                    .iter()
                    .filter(|r| r.panic_entered == Some(1))
                    .map(|r| {
                        Circle::new(
                            (r.time_s, r.desired.max(0) as f64),
                            7,
                            PANIC_SHADE.stroke_width(2),
                        )
                    }),
            )
            .map_err(draw_err(NAME))?;
            let legend = vec![
                LegendEntry::new("stable wish (pre-limits)", Swatch::Line(WISH_COLOR, 1)),
                LegendEntry::new("panic wish (pre-limits)", Swatch::Line(PANIC_WISH_COLOR, 1)),
                LegendEntry::new("desired (decider)", Swatch::Line(DESIRED_COLOR, 2)),
                LegendEntry::new("want (reconcile)", Swatch::Dot(WANT_COLOR)),
                LegendEntry::new("replicas", Swatch::Line(REPLICAS_COLOR, 3)),
                LegendEntry::new("panic entered", Swatch::Ring(PANIC_SHADE)),
            ];
            draw_legend(&leg, &legend, NAME)?;
        }
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(Chart {
        file_name: NAME.into(),
        title: "Autoscaler decisions".into(),
        description: "From decisions.csv, per revision: at each decider run, the pods the stable and panic windows asked for before the rate limits and the desired scale decided; at each PodAutoscaler reconcile, its want (after min/max-scale and scale-to-zero gating) and the Deployment's replicas. Rings mark the decisions that entered panic mode.".into(),
        svg,
    })
}

/// Most rows the report's table of scaling steps shows.
const MAX_STEPS: usize = 200;

/// An HTML section listing every reconcile that changed a revision's
/// replicas, with the decider run just before it: the "why did it scale to
/// 7 at 62 s" view.
pub fn decisions_html(log: &DecisionLog) -> String {
    let mut out = String::new();
    let mut steps = Vec::new();
    let mut last_replicas: std::collections::BTreeMap<&str, u32> = Default::default();
    let mut last_tick: std::collections::BTreeMap<&str, &DecisionRow> = Default::default();
    for r in &log.rows {
        if r.kind == "tick" {
            last_tick.insert(&r.revision, r);
            continue;
        }
        let Some(now) = r.replicas else { continue };
        let before = last_replicas.insert(&r.revision, now);
        if before.is_some_and(|b| b != now) || (before.is_none() && now > 0) {
            steps.push((r, before, last_tick.get(r.revision.as_str()).copied()));
        }
    }
    let _ = writeln!(
        out,
        "<h2>Scaling steps</h2>\n<details><summary>{} reconcile(s) changed the replicas{}; each with the decider run before it (all rows: decisions.csv)</summary>",
        steps.len(),
        if steps.len() > MAX_STEPS {
            format!(", the first {MAX_STEPS} shown")
        } else {
            String::new()
        }
    );
    out.push_str("<table>\n<tr><th>time s</th><th>revision</th><th>replicas</th><th>want</th><th>desired</th><th>ready</th><th>stable</th><th>panic</th><th>wish stable/panic</th><th>panic mode</th><th>PA state (for s)</th><th>SKS</th></tr>\n");
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.2}"));
    let i = |v: Option<i64>| v.map_or("-".to_string(), |x| x.to_string());
    for (r, before, tick) in steps.iter().take(MAX_STEPS) {
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{:.3}</td><th>{}</th><td class=\"n\">{} → {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}/{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
            r.time_s,
            super::super::report::esc(&r.revision),
            before.map_or("-".to_string(), |b| b.to_string()),
            r.replicas.unwrap_or(0),
            i(r.want),
            r.desired,
            r.ready_pods,
            f(tick.and_then(|t| t.observed_stable)),
            f(tick.and_then(|t| t.observed_panic)),
            i(tick.and_then(|t| t.wanted_stable)),
            i(tick.and_then(|t| t.wanted_panic)),
            match tick.and_then(|t| t.panic) {
                Some(1) => "yes",
                Some(_) => "no",
                None => "-",
            },
            r.pa_state.as_deref().unwrap_or("-"),
            f(r.pa_state_for_s),
            r.sks_mode.as_deref().unwrap_or("-"),
        );
    }
    out.push_str("</table>\n</details>\n");
    out
}
