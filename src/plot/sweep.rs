//! Charts of a parameter sweep, drawn from its flat `summary.csv`.
//!
//! The reader expects one row per configuration and makes few assumptions
//! about the columns, so it adapts to whatever the sweep writes:
//!
//! - **key columns** hold the varied parameters, one column per key (values
//!   may be numbers or any text, such as `30s`);
//! - **metric columns** hold aggregated results; their names end in one of
//!   [`METRIC_SUFFIXES`] (`pod_seconds_mean`, `p99_ms_ci95_low`, ...);
//! - an optional boolean **Pareto column** (`true`/`false`, `1`/`0`,
//!   `yes`/`no`) marks the configurations on the cost–latency front.
//!
//! Every column name a chart reads is a parameter ([`ParetoSpec`],
//! [`HeatmapSpec`]); only the defaults encode naming conventions.

use super::error::{draw_err, PlotError};
use super::run::Chart;
use super::style::*;
use plotters::prelude::*;
use std::io::Read;
use std::path::Path;

/// Column-name endings that mark a metric column rather than a key.
pub const METRIC_SUFFIXES: &[&str] = &[
    "_mean",
    "_ci95_low",
    "_ci95_high",
    "_std",
    "_stddev",
    "_min",
    "_max",
    "_median",
    "_p50",
    "_count",
];

/// A sweep summary held as text cells, with typed accessors per column.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepTable {
    /// Column names, in file order.
    pub headers: Vec<String>,
    /// Cells, one `Vec` per row, as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

impl SweepTable {
    /// Reads a CSV file with a header line.
    pub fn read(path: &Path) -> Result<SweepTable, PlotError> {
        let f = std::fs::File::open(path).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(f).map_err(|e| match e {
            PlotError::Csv { source, .. } => PlotError::Csv {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })
    }

    /// Parses CSV text with a header line from any reader.
    pub fn from_reader<R: Read>(r: R) -> Result<SweepTable, PlotError> {
        let csv_err = |source| PlotError::Csv {
            path: "summary.csv".into(),
            source,
        };
        let mut rdr = csv::Reader::from_reader(r);
        let headers = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let rows = rdr
            .records()
            .map(|rec| rec.map(|r| r.iter().map(|c| c.trim().to_string()).collect()))
            .collect::<Result<Vec<Vec<String>>, _>>()
            .map_err(csv_err)?;
        Ok(SweepTable { headers, rows })
    }

    /// Index of a column.
    pub fn column_index(&self, name: &str) -> Result<usize, PlotError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| PlotError::MissingColumn {
                column: name.to_string(),
                available: self.headers.join(", "),
            })
    }

    /// True if the table has the column.
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// A column's cells as text.
    pub fn texts(&self, name: &str) -> Result<Vec<&str>, PlotError> {
        let i = self.column_index(name)?;
        Ok(self
            .rows
            .iter()
            .map(|r| r.get(i).map_or("", String::as_str))
            .collect())
    }

    /// A column's cells as numbers; any cell that is not one is an error.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, PlotError> {
        self.texts(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| PlotError::NotANumber {
                        row: row + 1,
                        column: name.to_string(),
                        value: v.to_string(),
                    })
            })
            .collect()
    }

    /// A column's cells as numbers where an empty cell is `None` (a sweep
    /// with one replication has no confidence interval); any other cell that
    /// is not a number is an error.
    pub fn optional_numbers(&self, name: &str) -> Result<Vec<Option<f64>>, PlotError> {
        self.texts(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                if v.is_empty() {
                    return Ok(None);
                }
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(Some)
                    .ok_or_else(|| PlotError::NotANumber {
                        row: row + 1,
                        column: name.to_string(),
                        value: v.to_string(),
                    })
            })
            .collect()
    }

    /// A boolean column (`true`/`1`/`yes`/`y`/`x`/`*` are true, anything else
    /// false).
    pub fn flags(&self, name: &str) -> Result<Vec<bool>, PlotError> {
        Ok(self
            .texts(name)?
            .into_iter()
            .map(|v| {
                matches!(
                    v.to_ascii_lowercase().as_str(),
                    "true" | "1" | "yes" | "y" | "x" | "*"
                )
            })
            .collect())
    }

    /// The varied keys: columns whose name ends in none of
    /// [`METRIC_SUFFIXES`], that are not named in `exclude`, and that hold
    /// more than one distinct value. In file order.
    pub fn varied_keys(&self, exclude: &[&str]) -> Vec<String> {
        self.headers
            .iter()
            .filter(|h| !METRIC_SUFFIXES.iter().any(|s| h.ends_with(s)))
            .filter(|h| !exclude.contains(&h.as_str()))
            .filter(|h| distinct(&self.texts(h).unwrap_or_default()).len() > 1)
            .cloned()
            .collect()
    }
}

/// Distinct values in order of first appearance (a sweep grid's order).
fn distinct<'a>(vals: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in vals {
        if !out.contains(v) {
            out.push(v);
        }
    }
    out
}

/// Short display name of a dotted key: the part after the last `/` or `.`
/// (`autoscaler.stable-window` → `stable-window`).
fn short_key(k: &str) -> String {
    let k = k.trim_matches('"').replace('"', "");
    let cut = k.rfind('/').or_else(|| k.rfind('.'));
    match cut {
        Some(i) if i + 1 < k.len() => k[i + 1..].to_string(),
        _ => k,
    }
}

/// Which columns the cost–latency chart reads.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoSpec {
    /// Cost column, the x axis. Default `pod_seconds_mean`.
    pub cost: String,
    /// X-axis title. Default `cost (pod-seconds)`.
    pub cost_label: String,
    /// Latency column, the y axis. Default `latency_p99_ms_mean`.
    pub latency: String,
    /// Y-axis title. Default `p99 latency (ms)`.
    pub latency_label: String,
    /// Confidence-interval columns `(low, high)` of the cost, drawn as
    /// error bars when both exist. Default derived by [`ci_columns`].
    pub cost_ci: Option<(String, String)>,
    /// Confidence-interval columns of the latency. Default derived by
    /// [`ci_columns`].
    pub latency_ci: Option<(String, String)>,
    /// Boolean column marking the front; when `None` or absent from the
    /// table, the front is computed with [`pareto_front`]. Default `pareto`.
    pub pareto: Option<String>,
    /// Key columns used to label points; `None` means
    /// [`SweepTable::varied_keys`]. Default `None`.
    pub keys: Option<Vec<String>>,
}

/// `<base>_ci95_low` and `<base>_ci95_high` for a metric named
/// `<base>_mean`; `None` for other names.
pub fn ci_columns(metric: &str) -> Option<(String, String)> {
    metric
        .strip_suffix("_mean")
        .map(|b| (format!("{b}_ci95_low"), format!("{b}_ci95_high")))
}

impl Default for ParetoSpec {
    fn default() -> Self {
        ParetoSpec::new("pod_seconds_mean", "latency_p99_ms_mean")
    }
}

impl ParetoSpec {
    /// The key columns: [`ParetoSpec::keys`] if set, else the table's
    /// [`SweepTable::varied_keys`] less every column this spec reads as a
    /// metric (so metrics need not follow the suffix convention).
    pub fn key_columns(&self, table: &SweepTable) -> Vec<String> {
        if let Some(k) = &self.keys {
            return k.clone();
        }
        let mut exclude: Vec<&str> = vec![&self.cost, &self.latency];
        exclude.extend(self.pareto.as_deref());
        for (lo, hi) in self.cost_ci.iter().chain(self.latency_ci.iter()) {
            exclude.push(lo);
            exclude.push(hi);
        }
        table.varied_keys(&exclude)
    }

    /// A spec for the given cost and latency columns, with axis titles
    /// derived from the names and the other fields at their defaults.
    pub fn new(cost: &str, latency: &str) -> Self {
        ParetoSpec {
            cost: cost.to_string(),
            cost_label: if cost.starts_with("pod_seconds") {
                "cost (pod-seconds)".to_string()
            } else {
                cost.to_string()
            },
            latency: latency.to_string(),
            latency_label: metric_label(latency),
            cost_ci: ci_columns(cost),
            latency_ci: ci_columns(latency),
            pareto: Some("pareto".to_string()),
            keys: None,
        }
    }
}

/// `p99_ms_mean` → `p99 latency (ms)`; other names pass through.
fn metric_label(m: &str) -> String {
    let base = m.strip_suffix("_mean").unwrap_or(m);
    // Sweep metrics are named by their summary.json path: latency_p99_ms.
    let base = base.strip_prefix("latency_").unwrap_or(base);
    match base.strip_suffix("_ms") {
        Some(q) if !q.contains('_') => format!("{q} latency (ms)"),
        Some(q) => format!("{} (ms)", q.replace('_', " ")),
        None => m.to_string(),
    }
}

/// Marks the points no other point beats: a point is on the front unless
/// some other point is at most as costly and at most as slow, and strictly
/// better in one of the two. Both coordinates are minimised.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(c, l)| {
            !points
                .iter()
                .any(|&(c2, l2)| c2 <= c && l2 <= l && (c2 < c || l2 < l))
        })
        .collect()
}

/// Which rows are on the Pareto front: the spec's Pareto column when the
/// table has it, else [`pareto_front`] of the cost and latency columns.
pub fn front_flags(table: &SweepTable, spec: &ParetoSpec) -> Result<Vec<bool>, PlotError> {
    match &spec.pareto {
        Some(col) if table.has_column(col) => table.flags(col),
        _ => {
            let cost = table.numbers(&spec.cost)?;
            let lat = table.numbers(&spec.latency)?;
            Ok(pareto_front(&cost.into_iter().zip(lat).collect::<Vec<_>>()))
        }
    }
}

fn pad_range(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        lo.abs().max(1.0) * 0.1
    };
    (
        (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::MIN }),
        hi + pad,
    )
}

/// Per-row interval bounds, `None` for rows without an interval.
type RowIntervals = Vec<Option<(f64, f64)>>;

/// The intervals of `cols`; `None` when the columns are missing or every row
/// lacks an interval.
fn ci(
    table: &SweepTable,
    cols: &Option<(String, String)>,
) -> Result<Option<RowIntervals>, PlotError> {
    match cols {
        Some((lo, hi)) if table.has_column(lo) && table.has_column(hi) => {
            let l = table.optional_numbers(lo)?;
            let h = table.optional_numbers(hi)?;
            let bounds: Vec<Option<(f64, f64)>> =
                l.into_iter().zip(h).map(|(a, b)| Some((a?, b?))).collect();
            Ok(bounds.iter().any(Option::is_some).then_some(bounds))
        }
        _ => Ok(None),
    }
}

const FRONT_COLOR: RGBColor = RGBColor(213, 94, 0);
const OTHER_COLOR: RGBColor = RGBColor(0, 114, 178);

/// Cost against latency, one point per configuration, with the Pareto
/// front drawn as a line through its points and labelled with their keys.
pub fn pareto_svg(table: &SweepTable, spec: &ParetoSpec) -> Result<String, PlotError> {
    const NAME: &str = "pareto.svg";
    if table.rows.is_empty() {
        return Err(PlotError::NoData("summary.csv has no rows".into()));
    }
    let cost = table.numbers(&spec.cost)?;
    let lat = table.numbers(&spec.latency)?;
    let pts: Vec<(f64, f64)> = cost.iter().copied().zip(lat.iter().copied()).collect();
    let front = front_flags(table, spec)?;
    let cost_ci = ci(table, &spec.cost_ci)?;
    let lat_ci = ci(table, &spec.latency_ci)?;
    let keys = spec.key_columns(table);
    let key_cols: Vec<Vec<&str>> = keys
        .iter()
        .map(|k| table.texts(k))
        .collect::<Result<_, _>>()?;
    let label = |i: usize| {
        keys.iter()
            .zip(&key_cols)
            .map(|(k, col)| format!("{}={}", short_key(k), col[i]))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let xs = cost_ci
        .iter()
        .flatten()
        .flatten()
        .flat_map(|&(a, b)| [a, b])
        .chain(cost.iter().copied());
    let ys = lat_ci
        .iter()
        .flatten()
        .flatten()
        .flat_map(|&(a, b)| [a, b])
        .chain(lat.iter().copied());
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (x0, x1) = pad_range(x0, x1);
    let (y0, y1) = pad_range(y0, y1);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let (plot, leg) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut ch = ChartBuilder::on(&plot)
            .caption("Cost against latency", (FONT, 24))
            .margin(8)
            .margin_right(24)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err(NAME))?;
        ch.configure_mesh()
            .x_desc(spec.cost_label.as_str())
            .y_desc(spec.latency_label.as_str())
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&num_label)
            .y_label_formatter(&num_label)
            .draw()
            .map_err(draw_err(NAME))?;
        let bar = RGBColor(140, 140, 140).stroke_width(1);
        if let Some(ci) = &cost_ci {
            ch.draw_series(
                ci.iter()
                    .zip(&lat)
                    .filter_map(|(ab, &y)| ab.map(|(a, b)| (a, b, y)))
                    .map(|(a, b, y)| PathElement::new(vec![(a, y), (b, y)], bar)),
            )
            .map_err(draw_err(NAME))?;
        }
        if let Some(ci) = &lat_ci {
            ch.draw_series(
                ci.iter()
                    .zip(&cost)
                    .filter_map(|(ab, &x)| ab.map(|(a, b)| (a, b, x)))
                    .map(|(a, b, x)| PathElement::new(vec![(x, a), (x, b)], bar)),
            )
            .map_err(draw_err(NAME))?;
        }
        let mut on: Vec<(usize, (f64, f64))> = pts
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, _)| front[*i])
            .collect();
        on.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.1 .1.total_cmp(&b.1 .1)));
        ch.draw_series(std::iter::once(PathElement::new(
            on.iter().map(|p| p.1).collect::<Vec<_>>(),
            FRONT_COLOR.stroke_width(2),
        )))
        .map_err(draw_err(NAME))?;
        ch.draw_series(
            pts.iter()
                .enumerate()
                .filter(|(i, _)| !front[*i])
                .map(|(_, &p)| Circle::new(p, 5, OTHER_COLOR.stroke_width(2))),
        )
        .map_err(draw_err(NAME))?;
        ch.draw_series(
            on.iter()
                .map(|&(_, p)| Circle::new(p, 6, FRONT_COLOR.filled())),
        )
        .map_err(draw_err(NAME))?;
        // Labels point away from the nearer side edge so they stay inside
        // the plotting area: above right on the left half, below left on the
        // right half, which keeps them off a front falling left to right.
        let mid = (x0 + x1) / 2.0;
        ch.draw_series(on.iter().map(|&(i, p)| {
            use plotters::style::text_anchor::{HPos, VPos};
            let (h, v, dx, dy) = if p.0 > mid {
                (HPos::Right, VPos::Top, -8, 8)
            } else {
                (HPos::Left, VPos::Bottom, 8, -6)
            };
            EmptyElement::at(p)
                + Text::new(
                    label(i),
                    (dx, dy),
                    (FONT, 15)
                        .into_font()
                        .color(&BLACK)
                        .pos(plotters::style::text_anchor::Pos::new(h, v)),
                )
        }))
        .map_err(draw_err(NAME))?;
        let mut legend = vec![
            LegendEntry::new(
                format!("Pareto front ({})", on.len()),
                Swatch::Dot(FRONT_COLOR),
            ),
            LegendEntry::new(
                format!("dominated ({})", pts.len() - on.len()),
                Swatch::Ring(OTHER_COLOR),
            ),
        ];
        if cost_ci.is_some() || lat_ci.is_some() {
            legend.push(LegendEntry::new(
                "95% confidence interval",
                Swatch::Line(RGBColor(140, 140, 140), 1),
            ));
        }
        draw_legend(&leg, &legend, NAME)?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// Which columns the heatmap reads.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapSpec {
    /// Key along the x axis.
    pub x_key: String,
    /// Key along the y axis.
    pub y_key: String,
    /// Metric column giving each cell's colour.
    pub value: String,
    /// Title of the colour scale.
    pub value_label: String,
}

/// Perceptually ordered colours from low (dark purple) to high (yellow),
/// sampled from the viridis map; cells interpolate between them.
const RAMP: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

fn ramp(f: f64) -> RGBColor {
    let f = if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = f * (RAMP.len() - 1) as f64;
    let i = (x.floor() as usize).min(RAMP.len() - 2);
    let t = x - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Heatmap height taken by everything but the plot area (caption, margins,
/// x-axis labels), plus a little air around the y-axis title.
const Y_TITLE_ROOM: u32 = 110;

fn fmt_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A grid of the two keys' values, each cell coloured by the metric and
/// printed with it; rows that share a cell (a third key varied) are
/// averaged. Key values keep their order of first appearance.
pub fn heatmap_svg(table: &SweepTable, spec: &HeatmapSpec) -> Result<String, PlotError> {
    const NAME: &str = "heatmap.svg";
    if table.rows.is_empty() {
        return Err(PlotError::NoData("summary.csv has no rows".into()));
    }
    let xs = table.texts(&spec.x_key)?;
    let ys = table.texts(&spec.y_key)?;
    let vals = table.numbers(&spec.value)?;
    let xv = distinct(&xs);
    let yv = distinct(&ys);
    let (nx, ny) = (xv.len(), yv.len());
    let mut sum = vec![vec![(0.0, 0u32); nx]; ny];
    for ((x, y), v) in xs.iter().zip(&ys).zip(&vals) {
        let i = xv.iter().position(|a| a == x).expect("distinct holds it");
        let j = yv.iter().position(|a| a == y).expect("distinct holds it");
        sum[j][i].0 += v;
        sum[j][i].1 += 1;
    }
    let cells: Vec<(usize, usize, f64)> = (0..ny)
        .flat_map(|j| (0..nx).map(move |i| (i, j)))
        .filter_map(|(i, j)| {
            let (s, n) = sum[j][i];
            (n > 0).then(|| (i, j, s / n as f64))
        })
        .collect();
    let lo = cells.iter().map(|c| c.2).fold(f64::INFINITY, f64::min);
    let hi = cells.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max);
    let norm = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };

    // The y-axis title runs along the plot's height, which follows the row
    // count; grow the chart so the whole key fits beside the rows (at about
    // 0.6 em per character), and fall back to the key's last part if even
    // the tallest chart would clip it.
    const MAX_HEIGHT: u32 = 900;
    let title_px = |k: &str| (k.chars().count() as f64 * 17.0 * 0.6).ceil() as u32;
    let y_title = if title_px(&spec.y_key) + Y_TITLE_ROOM <= MAX_HEIGHT {
        spec.y_key.clone()
    } else {
        short_key(&spec.y_key)
    };
    let height = (140 + 60 * ny as u32)
        .max(title_px(&y_title) + Y_TITLE_ROOM)
        .clamp(320, MAX_HEIGHT);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let (plot, leg) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let xlab = |v: &f64| label_at(&xv, *v);
        let ylab = |v: &f64| label_at(&yv, *v);
        let mut ch = ChartBuilder::on(&plot)
            .caption(format!("{} by key", spec.value_label), (FONT, 24))
            .margin(8)
            .x_label_area_size(44)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)
            .map_err(draw_err(NAME))?;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc(spec.x_key.as_str())
            .y_desc(y_title.as_str())
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17))
            .x_labels(2 * nx + 1)
            .y_labels(2 * ny + 1)
            .x_label_formatter(&xlab)
            .y_label_formatter(&ylab)
            .draw()
            .map_err(draw_err(NAME))?;
        ch.draw_series(cells.iter().map(|&(i, j, v)| {
            Rectangle::new(
                [(i as f64, j as f64), (i as f64 + 1.0, j as f64 + 1.0)],
                ramp(norm(v)).filled(),
            )
        }))
        .map_err(draw_err(NAME))?;
        ch.draw_series(cells.iter().map(|&(i, j, v)| {
            // Dark text on the light end of the ramp, light on the dark end.
            let color = if norm(v) > 0.6 { BLACK } else { WHITE };
            Text::new(
                fmt_value(v),
                (i as f64 + 0.5, j as f64 + 0.5),
                (FONT, 15)
                    .into_font()
                    .color(&color)
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    )),
            )
        }))
        .map_err(draw_err(NAME))?;

        // Colour scale in the legend column.
        let bar_top = 60;
        let bar_h = 200;
        let steps = 40;
        for s in 0..steps {
            let f = 1.0 - s as f64 / steps as f64;
            let y = bar_top + s * bar_h / steps;
            leg.draw(&Rectangle::new(
                [(20, y), (50, y + bar_h / steps + 1)],
                ramp(f).filled(),
            ))
            .map_err(draw_err(NAME))?;
        }
        let text = |s: String, y: i32| {
            Text::new(
                s,
                (58, y),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Left,
                        plotters::style::text_anchor::VPos::Center,
                    )),
            )
        };
        leg.draw(&Text::new(
            spec.value_label.clone(),
            (10, 36),
            (FONT, 15).into_font().color(&BLACK),
        ))
        .map_err(draw_err(NAME))?;
        leg.draw(&text(fmt_value(hi), bar_top))
            .map_err(draw_err(NAME))?;
        leg.draw(&text(fmt_value(lo), bar_top + bar_h))
            .map_err(draw_err(NAME))?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// The category label for a tick at `v`: categories sit at `k + 0.5`.
fn label_at(vals: &[&str], v: f64) -> String {
    let k = v - 0.5;
    if (k - k.round()).abs() < 1e-6 && k >= -1e-6 {
        vals.get(k.round() as usize)
            .map_or(String::new(), |s| s.to_string())
    } else {
        String::new()
    }
}

/// The sweep's charts: always `pareto.svg`; `heatmap.svg` too when exactly
/// two keys vary (coloured by `heatmap_value`, default the spec's latency
/// column).
pub fn sweep_charts(
    table: &SweepTable,
    spec: &ParetoSpec,
    heatmap_value: Option<&str>,
) -> Result<Vec<Chart>, PlotError> {
    let mut charts = vec![Chart {
        file_name: "pareto.svg".into(),
        title: "Cost against latency".into(),
        description: format!(
            "One point per configuration: {} against {}. Filled points form the Pareto front: no other configuration is both cheaper and faster.",
            spec.cost, spec.latency
        ),
        svg: pareto_svg(table, spec)?,
    }];
    let keys = spec.key_columns(table);
    if keys.len() == 2 {
        let value = heatmap_value.unwrap_or(&spec.latency).to_string();
        let value_label = if value == spec.latency {
            spec.latency_label.clone()
        } else if value == spec.cost {
            spec.cost_label.clone()
        } else {
            metric_label(&value)
        };
        let hs = HeatmapSpec {
            x_key: keys[0].clone(),
            y_key: keys[1].clone(),
            value,
            value_label,
        };
        charts.push(Chart {
            file_name: "heatmap.svg".into(),
            title: format!("{} over {} and {}", hs.value, hs.x_key, hs.y_key),
            description: format!(
                "Each cell is one combination of {} and {}, coloured and labelled by {}.",
                hs.x_key, hs.y_key, hs.value
            ),
            svg: heatmap_svg(table, &hs)?,
        });
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_keeps_only_undominated_points() {
        let pts = [(1.0, 10.0), (2.0, 5.0), (3.0, 6.0), (4.0, 1.0), (2.0, 5.0)];
        // (3, 6) is beaten by (2, 5); equal points do not dominate each other.
        assert_eq!(pareto_front(&pts), vec![true, true, false, true, true]);
    }

    #[test]
    fn names_and_labels() {
        assert_eq!(short_key("autoscaler.stable-window"), "stable-window");
        assert_eq!(
            short_key("revision.0.annotations.\"autoscaling.knative.dev/target\""),
            "target"
        );
        assert_eq!(metric_label("p99_ms_mean"), "p99 latency (ms)");
        assert_eq!(metric_label("latency_p99_ms_mean"), "p99 latency (ms)");
        assert_eq!(
            ci_columns("p99_ms_mean"),
            Some(("p99_ms_ci95_low".into(), "p99_ms_ci95_high".into()))
        );
        assert_eq!(ci_columns("p99_ms"), None);
        assert_eq!(label_at(&["a", "b"], 1.5), "b");
        assert_eq!(label_at(&["a", "b"], 1.0), "");
    }

    #[test]
    fn ramp_runs_from_dark_to_light() {
        let RGBColor(r0, g0, b0) = ramp(0.0);
        let RGBColor(r1, g1, b1) = ramp(1.0);
        assert!((r0 as u32 + g0 as u32 + b0 as u32) < (r1 as u32 + g1 as u32 + b1 as u32));
        assert_eq!(ramp(f64::NAN), ramp(0.0));
    }
}
