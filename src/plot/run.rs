//! Charts of one run, from its summary and timeseries.

use super::error::{draw_err, PlotError};
use super::style::*;
use crate::model::{Summary, TimeseriesRow};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One drawn chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File name to write it under (`pods.svg`).
    pub file_name: String,
    /// Title, also used as the report's heading for it.
    pub title: String,
    /// One or two sentences on how to read it.
    pub description: String,
    /// The SVG document.
    pub svg: String,
}

/// What a run wrote: its summary and every timeseries row.
#[derive(Clone, Debug, PartialEq)]
pub struct RunData {
    /// `summary.json`.
    pub summary: Summary,
    /// `timeseries.csv`, in file order (by second, then revision).
    pub rows: Vec<TimeseriesRow>,
}

impl RunData {
    /// Reads `dir/summary.json` and `dir/timeseries.csv`.
    pub fn load(dir: &Path) -> Result<RunData, PlotError> {
        let sp = dir.join("summary.json");
        let text = std::fs::read_to_string(&sp).map_err(|source| PlotError::Io {
            path: sp.clone(),
            source,
        })?;
        let summary: Summary =
            serde_json::from_str(&text).map_err(|source| PlotError::Json { path: sp, source })?;
        let tp = dir.join("timeseries.csv");
        let mut rdr = csv::Reader::from_path(&tp).map_err(|source| PlotError::Csv {
            path: tp.clone(),
            source,
        })?;
        let rows = rdr
            .deserialize()
            .collect::<Result<Vec<TimeseriesRow>, _>>()
            .map_err(|source| PlotError::Csv { path: tp, source })?;
        Ok(RunData { summary, rows })
    }
}

/// Runs longer than this many seconds are drawn from buckets of several
/// seconds, so a day-long trace still makes a small SVG.
pub const MAX_POINTS: usize = 1500;

/// Height of one panel in pixels.
const PANEL_HEIGHT: u32 = 330;

/// One revision's columns, one entry per (possibly bucketed) step.
#[derive(Clone, Debug, Default)]
struct RevSeries {
    name: String,
    /// End of each step, seconds.
    t: Vec<f64>,
    arrivals: Vec<f64>,
    completed: Vec<f64>,
    errors: Vec<f64>,
    p50: Vec<Option<f64>>,
    p99: Vec<Option<f64>>,
    in_flight: Vec<f64>,
    activator_queue: Vec<f64>,
    desired: Vec<Option<f64>>,
    ready: Vec<f64>,
    pending: Vec<f64>,
    /// Per second, never bucketed: shading needs exact edges.
    t_full: Vec<f64>,
    panic: Vec<bool>,
    activator: Vec<bool>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn bucket<T: Copy, U>(xs: &[T], width: usize, f: impl Fn(&[T]) -> U) -> Vec<U> {
    xs.chunks(width).map(f).collect()
}

fn opt_mean(xs: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| mean(&v))
}

fn opt_max(xs: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| max(&v))
}

impl RevSeries {
    fn from_rows(name: &str, rows: &[&TimeseriesRow]) -> Self {
        // A zero percentile means the second had no successful request.
        let lat = |v: f64| (v > 0.0).then_some(v);
        let t: Vec<f64> = rows.iter().map(|r| r.time_s as f64).collect();
        RevSeries {
            name: name.to_string(),
            t: t.clone(),
            arrivals: rows.iter().map(|r| r.arrivals as f64).collect(),
            completed: rows.iter().map(|r| r.completed as f64).collect(),
            errors: rows.iter().map(|r| r.errors as f64).collect(),
            p50: rows.iter().map(|r| lat(r.p50_ms)).collect(),
            p99: rows.iter().map(|r| lat(r.p99_ms)).collect(),
            in_flight: rows.iter().map(|r| r.in_flight as f64).collect(),
            activator_queue: rows.iter().map(|r| r.activator_queue as f64).collect(),
            // −1 means the decider has not decided yet.
            desired: rows
                .iter()
                .map(|r| (r.desired_pods >= 0).then_some(r.desired_pods as f64))
                .collect(),
            ready: rows.iter().map(|r| r.ready_pods as f64).collect(),
            pending: rows.iter().map(|r| r.pending_pods as f64).collect(),
            t_full: t,
            panic: rows.iter().map(|r| r.panic != 0).collect(),
            activator: rows.iter().map(|r| r.activator_in_path != 0).collect(),
        }
    }

    /// Aggregates `width` seconds into one step: rates and queue lengths
    /// are averaged, pod counts and p99 take the bucket's maximum (peaks are
    /// what matter there), p50 averages the seconds that had requests.
    fn bucketed(&self, width: usize) -> Self {
        if width <= 1 {
            return self.clone();
        }
        RevSeries {
            name: self.name.clone(),
            t: bucket(&self.t, width, |c| c[c.len() - 1]),
            arrivals: bucket(&self.arrivals, width, mean),
            completed: bucket(&self.completed, width, mean),
            errors: bucket(&self.errors, width, mean),
            p50: bucket(&self.p50, width, opt_mean),
            p99: bucket(&self.p99, width, opt_max),
            in_flight: bucket(&self.in_flight, width, mean),
            activator_queue: bucket(&self.activator_queue, width, mean),
            desired: bucket(&self.desired, width, opt_max),
            ready: bucket(&self.ready, width, max),
            pending: bucket(&self.pending, width, max),
            t_full: self.t_full.clone(),
            panic: self.panic.clone(),
            activator: self.activator.clone(),
        }
    }
}

/// Everything the run charts share.
struct Prepared {
    revs: Vec<RevSeries>,
    /// Seconds per drawn step (1 unless the run is long).
    step: usize,
    duration: f64,
    /// Totals over revisions, per step.
    t: Vec<f64>,
    arrivals: Vec<f64>,
    completed: Vec<f64>,
    errors: Vec<f64>,
    shares: Vec<f64>,
}

fn prepare(data: &RunData) -> Result<Prepared, PlotError> {
    if data.rows.is_empty() {
        return Err(PlotError::NoData("timeseries.csv has no rows".into()));
    }
    // Revision order: the summary's (scenario order), then any name only the
    // timeseries knows, in order of first appearance.
    let mut names: Vec<String> = data
        .summary
        .revisions
        .iter()
        .map(|r| r.name.clone())
        .collect();
    for r in &data.rows {
        if !names.contains(&r.revision) {
            names.push(r.revision.clone());
        }
    }
    let seconds = data
        .rows
        .iter()
        .map(|r| r.time_s)
        .collect::<std::collections::BTreeSet<_>>();
    let step = seconds.len().div_ceil(MAX_POINTS).max(1);
    let secs: Vec<u64> = seconds.into_iter().collect();
    let mut revs = Vec::new();
    for n in &names {
        let own: std::collections::BTreeMap<u64, &TimeseriesRow> = data
            .rows
            .iter()
            .filter(|r| &r.revision == n)
            .map(|r| (r.time_s, r))
            .collect();
        if own.is_empty() {
            continue;
        }
        // A revision created (or deleted) mid-run has no rows while it does
        // not exist: give it empty seconds so every series shares one time axis.
        let absent: Vec<TimeseriesRow> = secs
            .iter()
            .filter(|t| !own.contains_key(t))
            .map(|&t| TimeseriesRow {
                time_s: t,
                revision: n.clone(),
                ..TimeseriesRow::default()
            })
            .collect();
        let mut rows: Vec<&TimeseriesRow> = own.values().copied().chain(absent.iter()).collect();
        rows.sort_by_key(|r| r.time_s);
        revs.push(RevSeries::from_rows(n, &rows).bucketed(step));
    }
    // Totals per second first, then bucketed the same way as revisions.
    let mut arr = vec![0.0; secs.len()];
    let mut comp = vec![0.0; secs.len()];
    let mut err = vec![0.0; secs.len()];
    for r in &data.rows {
        let i = secs.binary_search(&r.time_s).expect("second is in the set");
        arr[i] += r.arrivals as f64;
        comp[i] += r.completed as f64;
        err[i] += r.errors as f64;
    }
    let t_full: Vec<f64> = secs.iter().map(|&s| s as f64).collect();
    let duration = data
        .summary
        .simulated_seconds
        .max(*t_full.last().expect("rows are not empty"));
    Ok(Prepared {
        step,
        duration,
        t: bucket(&t_full, step, |c| c[c.len() - 1]),
        arrivals: bucket(&arr, step, mean),
        completed: bucket(&comp, step, mean),
        errors: bucket(&err, step, mean),
        shares: data
            .summary
            .revisions
            .iter()
            .map(|r| r.observed_share)
            .collect(),
        revs,
    })
}

/// Draws every chart of a run, in report order: requests, pods, latency
/// over time, latency distribution, traffic share.
pub fn run_charts(data: &RunData) -> Result<Vec<Chart>, PlotError> {
    let p = prepare(data)?;
    let per = if p.step > 1 {
        format!(" Runs longer than {MAX_POINTS} s are drawn in {}-second steps (rates and queues averaged, pod counts and p99 at the step's maximum).", p.step)
    } else {
        String::new()
    };
    let mut charts = vec![
        Chart {
            file_name: "requests.svg".into(),
            title: "Requests over time".into(),
            description: format!("Top: requests arriving, answered 200 and failed (503/504) per second. Bottom: requests in the system (activator queue, queue-proxy and app) and those buffered in the activator, at the end of each second.{per}"),
            svg: requests_svg(&p)?,
        },
        Chart {
            file_name: "pods.svg".into(),
            title: "Pods over time".into(),
            description: format!("Per revision: the decider's desired scale, Ready pods and pods created but not yet Ready. Red bands mark panic mode; blue bands mark the activator in the request path (SKS proxy mode).{per}"),
            svg: pods_svg(&p)?,
        },
        Chart {
            file_name: "latency.svg".into(),
            title: "Latency over time".into(),
            description: format!("Median and 99th-percentile latency of each second's successful requests, per revision, on a log scale. Gaps are seconds without a completed request.{per}"),
            svg: latency_svg(&p)?,
        },
    ];
    if !data.summary.latency_distribution.is_empty() {
        charts.push(Chart {
            file_name: "latency-cdf.svg".into(),
            title: "Latency distribution".into(),
            description: "All successful requests of the run. Left: the share of requests answered within a given latency. Right: the same quantiles with the tail stretched out (each step right is ten times rarer).".into(),
            svg: cdf_svg(data)?,
        });
    }
    charts.push(Chart {
        file_name: "traffic.svg".into(),
        title: "Traffic share".into(),
        description: format!(
            "Share of routed requests per revision, over windows of {} s.",
            share_window(p.step)
        ),
        svg: traffic_svg(&p)?,
    });
    Ok(charts)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Splits `root` into `n` stacked panels, each with its legend column.
fn panels<'a>(root: &Area<'a>, n: usize) -> Vec<(Area<'a>, Area<'a>)> {
    root.split_evenly((n, 1))
        .into_iter()
        .map(|a| a.split_horizontally(WIDTH - LEGEND_WIDTH))
        .collect()
}

/// An axis label formatter.
type LabelFmt<'f, V> = &'f dyn Fn(&V) -> String;

fn mesh_style<'a, 'b, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    y_fmt: Option<LabelFmt<Y::ValueType>>,
    y_labels: Option<usize>,
    name: &str,
) -> Result<(), PlotError>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut m = chart.configure_mesh();
    m.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&num_label);
    if let Some(f) = y_fmt {
        m.y_label_formatter(f);
    }
    if let Some(n) = y_labels {
        m.y_labels(n);
    }
    m.draw().map_err(draw_err(name))
}

fn shade_runs<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    runs: &[(f64, f64)],
    y: (f64, f64),
    color: RGBColor,
    alpha: f64,
    name: &str,
) -> Result<(), PlotError> {
    chart
        .draw_series(
            runs.iter()
                .map(|&(a, b)| Rectangle::new([(a, y.0), (b, y.1)], color.mix(alpha).filled())),
        )
        .map_err(draw_err(name))?;
    Ok(())
}

fn draw_lines<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    t: &[f64],
    ys: impl IntoIterator<Item = Option<f64>>,
    style: ShapeStyle,
    name: &str,
) -> Result<(), PlotError> {
    let segs = segments(t.iter().copied().zip(ys));
    chart
        .draw_series(segs.into_iter().map(|s| PathElement::new(s, style)))
        .map_err(draw_err(name))?;
    Ok(())
}

fn requests_svg(p: &Prepared) -> Result<String, PlotError> {
    const NAME: &str = "requests.svg";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 2 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let areas = panels(&root, 2);
        let unit = if p.step > 1 {
            "requests per second (step average)"
        } else {
            "requests per second"
        };

        // Request rate.
        let multi = p.revs.len() > 1;
        let ymax = axis_top(max(&p.arrivals).max(max(&p.completed)));
        let mut ch = ChartBuilder::on(&areas[0].0)
            .caption("Request rate", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..p.duration, 0.0..ymax)
            .map_err(draw_err(NAME))?;
        mesh_style(&mut ch, "time (s)", unit, Some(&num_label), None, NAME)?;
        let mut legend = Vec::new();
        let total_label = if multi { "arrived (all)" } else { "arrived" };
        draw_lines(
            &mut ch,
            &p.t,
            p.arrivals.iter().map(|&v| Some(v)),
            TOTAL_COLOR.stroke_width(2),
            NAME,
        )?;
        legend.push(LegendEntry::new(total_label, Swatch::Line(TOTAL_COLOR, 2)));
        if multi {
            for (i, r) in p.revs.iter().enumerate() {
                let c = revision_color(i);
                draw_lines(
                    &mut ch,
                    &r.t,
                    r.arrivals.iter().map(|&v| Some(v)),
                    c.stroke_width(1),
                    NAME,
                )?;
                legend.push(LegendEntry::new(
                    format!("arrived: {}", r.name),
                    Swatch::Line(c, 1),
                ));
            }
        }
        let answered = RGBColor(0, 158, 115);
        draw_lines(
            &mut ch,
            &p.t,
            p.completed.iter().map(|&v| Some(v)),
            answered.mix(0.8).stroke_width(1),
            NAME,
        )?;
        legend.push(LegendEntry::new("answered 200", Swatch::Line(answered, 1)));
        draw_lines(
            &mut ch,
            &p.t,
            p.errors.iter().map(|&v| Some(v)),
            ERROR_COLOR.stroke_width(2),
            NAME,
        )?;
        legend.push(LegendEntry::new(
            "failed (503/504)",
            Swatch::Line(ERROR_COLOR, 2),
        ));
        draw_legend(&areas[0].1, &legend, NAME)?;

        // Requests in the system.
        let ymax = axis_top(
            p.revs
                .iter()
                .map(|r| max(&r.in_flight).max(max(&r.activator_queue)))
                .fold(0.0, f64::max),
        );
        let mut ch = ChartBuilder::on(&areas[1].0)
            .caption("Requests in the system", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..p.duration, 0.0..ymax)
            .map_err(draw_err(NAME))?;
        mesh_style(
            &mut ch,
            "time (s)",
            "requests",
            Some(&num_label),
            None,
            NAME,
        )?;
        let mut legend = Vec::new();
        // Queued requests as filled areas first, so the in-flight lines
        // (which include them) stay visible on top.
        for (i, r) in p.revs.iter().enumerate() {
            let c = revision_color(i);
            if r.activator_queue.iter().any(|&v| v > 0.0) {
                let mut poly: Vec<(f64, f64)> = vec![(r.t[0], 0.0)];
                poly.extend(r.t.iter().copied().zip(r.activator_queue.iter().copied()));
                poly.push((r.t[r.t.len() - 1], 0.0));
                ch.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.3).filled())))
                    .map_err(draw_err(NAME))?;
            }
            legend.push(LegendEntry::new(
                format!("in activator: {}", r.name),
                Swatch::Band(c, 0.3),
            ));
        }
        for (i, r) in p.revs.iter().enumerate() {
            let c = revision_color(i);
            draw_lines(
                &mut ch,
                &r.t,
                r.in_flight.iter().map(|&v| Some(v)),
                c.stroke_width(2),
                NAME,
            )?;
            legend.push(LegendEntry::new(
                format!("in flight: {}", r.name),
                Swatch::Line(c, 2),
            ));
        }
        draw_legend(&areas[1].1, &legend, NAME)?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// Colours of the pod lines.
pub(crate) const READY_COLOR: RGBColor = RGBColor(0, 114, 178);
const DESIRED_COLOR: RGBColor = RGBColor(30, 30, 30);
const PENDING_COLOR: RGBColor = RGBColor(230, 159, 0);

fn pods_svg(p: &Prepared) -> Result<String, PlotError> {
    const NAME: &str = "pods.svg";
    let mut svg = String::new();
    {
        let n = p.revs.len();
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, n as u32 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        for (r, (plot, leg)) in p.revs.iter().zip(panels(&root, n)) {
            let top = max(&r.ready)
                .max(max(&r.pending))
                .max(r.desired.iter().flatten().copied().fold(0.0, f64::max));
            // Whole pods: an integer top and at most one tick per pod.
            let ymax = (top * 1.08).ceil().max(2.0);
            let mut ch = ChartBuilder::on(&plot)
                .caption(format!("Pods: {}", r.name), (FONT, 24))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..p.duration, 0.0..ymax)
                .map_err(draw_err(NAME))?;
            mesh_style(
                &mut ch,
                "time (s)",
                "pods",
                Some(&num_label),
                Some((ymax as usize + 1).min(11)),
                NAME,
            )?;
            let act = true_runs(&r.t_full, &r.activator, 1.0);
            let pan = true_runs(&r.t_full, &r.panic, 1.0);
            shade_runs(
                &mut ch,
                &act,
                (0.0, ymax),
                ACTIVATOR_SHADE,
                ACTIVATOR_ALPHA,
                NAME,
            )?;
            shade_runs(&mut ch, &pan, (0.0, ymax), PANIC_SHADE, PANIC_ALPHA, NAME)?;
            draw_lines(
                &mut ch,
                &r.t,
                r.ready.iter().map(|&v| Some(v)),
                READY_COLOR.stroke_width(3),
                NAME,
            )?;
            draw_lines(
                &mut ch,
                &r.t,
                r.pending.iter().map(|&v| Some(v)),
                PENDING_COLOR.stroke_width(2),
                NAME,
            )?;
            // Desired on top: where it matches ready, it should still show.
            draw_lines(
                &mut ch,
                &r.t,
                r.desired.iter().copied(),
                DESIRED_COLOR.stroke_width(1),
                NAME,
            )?;
            let secs = |flags: &[bool]| flags.iter().filter(|&&f| f).count();
            let legend = vec![
                LegendEntry::new("ready", Swatch::Line(READY_COLOR, 3)),
                LegendEntry::new("desired (decider)", Swatch::Line(DESIRED_COLOR, 1)),
                LegendEntry::new("pending (not ready)", Swatch::Line(PENDING_COLOR, 2)),
                LegendEntry::new(
                    format!("panic mode ({} s)", secs(&r.panic)),
                    Swatch::Band(PANIC_SHADE, PANIC_ALPHA),
                ),
                LegendEntry::new(
                    format!("activator in path ({} s)", secs(&r.activator)),
                    Swatch::Band(ACTIVATOR_SHADE, ACTIVATOR_ALPHA),
                ),
            ];
            draw_legend(&leg, &legend, NAME)?;
        }
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// Log-axis bounds around positive values, padded to whole decades' halves.
fn log_bounds(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    let lo = 10f64.powf((lo / 1.5).log10().floor());
    let hi = 10f64.powf((hi * 1.5).log10().ceil());
    (lo, hi.max(lo * 10.0))
}

fn ms_label(v: &f64) -> String {
    if *v >= 1000.0 {
        format!("{}", v)
    } else if *v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn latency_svg(p: &Prepared) -> Result<String, PlotError> {
    const NAME: &str = "latency.svg";
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT + 60)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let (plot, leg) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (lo, hi) = log_bounds(
            p.revs
                .iter()
                .flat_map(|r| r.p50.iter().chain(r.p99.iter()).flatten().copied()),
        );
        let mut ch = ChartBuilder::on(&plot)
            .caption("Latency of successful requests", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..p.duration, (lo..hi).log_scale())
            .map_err(draw_err(NAME))?;
        mesh_style(
            &mut ch,
            "time (s)",
            "latency (ms, log scale)",
            Some(&ms_label),
            None,
            NAME,
        )?;
        let mut legend = Vec::new();
        for (i, r) in p.revs.iter().enumerate() {
            let c = revision_color(i);
            draw_lines(
                &mut ch,
                &r.t,
                r.p50.iter().copied(),
                lighten(c, 0.5).stroke_width(2),
                NAME,
            )?;
            draw_lines(
                &mut ch,
                &r.t,
                r.p99.iter().copied(),
                c.stroke_width(2),
                NAME,
            )?;
            legend.push(LegendEntry::new(
                format!("p99: {}", r.name),
                Swatch::Line(c, 2),
            ));
            legend.push(LegendEntry::new(
                format!("p50: {}", r.name),
                Swatch::Line(lighten(c, 0.5), 2),
            ));
        }
        draw_legend(&leg, &legend, NAME)?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// "Nines" of a quantile: 0.9 → 1, 0.99 → 2; the tail axis of a percentile
/// plot.
fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

fn cdf_svg(data: &RunData) -> Result<String, PlotError> {
    const NAME: &str = "latency-cdf.svg";
    let dist = &data.summary.latency_distribution;
    let lat = &data.summary.latency;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT + 60)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        let (lo, hi) = log_bounds(dist.iter().map(|q| q.latency_ms));
        let pts: Vec<(f64, f64)> = dist
            .iter()
            .filter(|q| q.latency_ms > 0.0)
            .map(|q| (q.latency_ms, 100.0 * q.quantile))
            .collect();
        let c = READY_COLOR;

        let mut ch = ChartBuilder::on(&left)
            .caption("Share of requests within a latency", (FONT, 24))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..100.0)
            .map_err(draw_err(NAME))?;
        ch.configure_mesh()
            .x_desc("latency (ms, log scale)")
            .y_desc("requests answered within (%)")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&ms_label)
            .y_label_formatter(&num_label)
            .draw()
            .map_err(draw_err(NAME))?;
        ch.draw_series(std::iter::once(PathElement::new(
            pts.clone(),
            c.stroke_width(2),
        )))
        .map_err(draw_err(NAME))?;
        ch.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(draw_err(NAME))?;

        // The tail: q = 1 is the maximum, which has no finite "nines".
        let tail: Vec<(f64, f64)> = dist
            .iter()
            .filter(|q| q.quantile < 1.0 && q.latency_ms > 0.0)
            .map(|q| (nines(q.quantile), q.latency_ms))
            .collect();
        // The small slack keeps 0.9999 (4.0000000001 nines) on a 4-decade axis.
        let xmax = (tail.iter().map(|p| p.0).fold(1.0, f64::max) - 1e-6).ceil();
        let mut ch = ChartBuilder::on(&right)
            .caption("Tail latency", (FONT, 24))
            .margin(8)
            .margin_left(16)
            .margin_right(36)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..xmax, (lo..hi).log_scale())
            .map_err(draw_err(NAME))?;
        let pct = |v: &f64| {
            let q = 100.0 * (1.0 - 10f64.powf(-*v));
            if (v - v.round()).abs() > 1e-9 {
                String::new()
            } else if q < 99.0 {
                format!("{q:.0}%")
            } else {
                format!("{}%", (q * 1e4).round() / 1e4)
            }
        };
        ch.configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms, log scale)")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(TRANSPARENT)
            .x_labels(xmax as usize + 1)
            .x_label_formatter(&pct)
            .y_label_formatter(&ms_label)
            .draw()
            .map_err(draw_err(NAME))?;
        ch.draw_series(std::iter::once(PathElement::new(
            tail.clone(),
            c.stroke_width(2),
        )))
        .map_err(draw_err(NAME))?;
        ch.draw_series(tail.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(draw_err(NAME))?;
        // Mark the summary's headline percentiles with their values.
        let marks = [
            ("p50", 0.5, lat.p50_ms),
            ("p99", 0.99, lat.p99_ms),
            ("p99.9", 0.999, lat.p999_ms),
        ];
        for (label, q, ms) in marks {
            if ms <= 0.0 || nines(q) > xmax {
                continue;
            }
            let at = (nines(q), ms);
            ch.draw_series(std::iter::once(Circle::new(
                at,
                5,
                ERROR_COLOR.stroke_width(2),
            )))
            .map_err(draw_err(NAME))?;
            // Below right of the marker: the curve only rises to the right,
            // so the text clears it and stays off the y axis.
            let text = EmptyElement::at(at)
                + Text::new(
                    format!("{label} {}", fmt_ms(ms)),
                    (8, 7),
                    (FONT, 16).into_font().color(&ERROR_COLOR).pos(
                        plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Left,
                            plotters::style::text_anchor::VPos::Top,
                        ),
                    ),
                );
            ch.draw_series(std::iter::once(text))
                .map_err(draw_err(NAME))?;
        }
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// Formats milliseconds for a label: "20.3 ms", "2.83 s".
pub(crate) fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Seconds per traffic-share window: per-second shares of a few requests
/// are mostly noise.
fn share_window(step: usize) -> usize {
    step.max(10)
}

fn traffic_svg(p: &Prepared) -> Result<String, PlotError> {
    const NAME: &str = "traffic.svg";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let (plot, leg) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut ch = ChartBuilder::on(&plot)
            .caption("Traffic share per revision", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..p.duration, 0.0..100.0)
            .map_err(draw_err(NAME))?;
        mesh_style(
            &mut ch,
            "time (s)",
            "share of requests (%)",
            Some(&num_label),
            None,
            NAME,
        )?;

        // Windows over the drawn steps; revisions' steps line up with the
        // totals' because `prepare` gives every revision every second.
        let per_window = (share_window(p.step) / p.step).max(1);
        let windows: Vec<(f64, Vec<f64>)> =
            p.t.chunks(per_window)
                .enumerate()
                .map(|(w, ts)| {
                    let range = w * per_window..w * per_window + ts.len();
                    let counts = p
                        .revs
                        .iter()
                        .map(|r| {
                            r.arrivals
                                .get(range.clone())
                                .map_or(0.0, |s| s.iter().sum())
                        })
                        .collect();
                    (ts[ts.len() - 1], counts)
                })
                .collect();
        // Each revision is a band between the cumulative shares of those
        // before it and including it; windows without requests break bands.
        let mut legend = Vec::new();
        for (i, r) in p.revs.iter().enumerate() {
            let c = revision_color(i);
            let mut runs: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
            let mut prev_end = 0.0;
            for (t_end, counts) in &windows {
                let total: f64 = counts.iter().sum();
                if total <= 0.0 {
                    runs.push(Vec::new());
                } else {
                    let below: f64 = counts[..i].iter().sum::<f64>() / total * 100.0;
                    let upto = below + counts[i] / total * 100.0;
                    let run = runs.last_mut().expect("never empty");
                    // Both window edges, so bands are flat within a window.
                    run.push((prev_end, below, upto));
                    run.push((*t_end, below, upto));
                }
                prev_end = *t_end;
            }
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                let mut poly: Vec<(f64, f64)> = run.iter().map(|&(t, _, hi)| (t, hi)).collect();
                poly.extend(run.iter().rev().map(|&(t, lo, _)| (t, lo)));
                ch.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.75).filled())))
                    .map_err(draw_err(NAME))?;
            }
            let label = match p.shares.get(i) {
                Some(s) => format!("{} ({:.1}%)", r.name, 100.0 * s),
                None => r.name.clone(),
            };
            legend.push(LegendEntry::new(label, Swatch::Band(c, 0.75)));
        }
        draw_legend(&leg, &legend, NAME)?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A revision created mid-run has no rows before it exists; its series
    /// must still line up with the others' seconds (the traffic-share chart
    /// sums revisions window by window).
    #[test]
    fn late_revision_series_share_the_time_axis() {
        let mut rows = Vec::new();
        for t in 1..=6u64 {
            rows.push(TimeseriesRow {
                time_s: t,
                revision: "old".into(),
                arrivals: if t <= 3 { 10 } else { 0 },
                ..Default::default()
            });
            if t > 3 {
                rows.push(TimeseriesRow {
                    time_s: t,
                    revision: "new".into(),
                    arrivals: 10,
                    ..Default::default()
                });
            }
        }
        let data = RunData {
            summary: Summary::default(),
            rows,
        };
        let p = prepare(&data).unwrap();
        assert_eq!(p.revs.len(), 2);
        let new = p.revs.iter().find(|r| r.name == "new").unwrap();
        assert_eq!(new.t, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(new.arrivals, vec![0.0, 0.0, 0.0, 10.0, 10.0, 10.0]);
    }

    #[test]
    fn bucketing_averages_rates_and_keeps_peaks() {
        let rows: Vec<TimeseriesRow> = (1..=4)
            .map(|s| TimeseriesRow {
                time_s: s,
                revision: "r".into(),
                arrivals: s,
                ready_pods: if s == 2 { 5 } else { 1 },
                p99_ms: if s == 3 { 0.0 } else { s as f64 },
                ..Default::default()
            })
            .collect();
        let refs: Vec<&TimeseriesRow> = rows.iter().collect();
        let b = RevSeries::from_rows("r", &refs).bucketed(2);
        assert_eq!(b.t, vec![2.0, 4.0]);
        assert_eq!(b.arrivals, vec![1.5, 3.5]);
        assert_eq!(b.ready, vec![5.0, 1.0]);
        assert_eq!(b.p99, vec![Some(2.0), Some(4.0)]);
        // Shading keeps per-second resolution.
        assert_eq!(b.panic.len(), 4);
    }

    #[test]
    fn nines_and_log_bounds() {
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert_eq!(log_bounds([20.0, 3000.0]), (10.0, 10000.0));
        assert_eq!(log_bounds(std::iter::empty()), (1.0, 10.0));
    }
}
