//! `cluster.svg`: nodes over time and how much of them pods request; only
//! for runs with node pools (`cluster.csv`).

use super::draw::*;
use crate::model::cluster::ClusterRow;
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

const NODES_COLOR: RGBColor = RGBColor(0, 114, 178);
const PROVISIONING_COLOR: RGBColor = RGBColor(230, 159, 0);
const DELETING_COLOR: RGBColor = RGBColor(150, 150, 150);
const PENDING_COLOR: RGBColor = RGBColor(200, 0, 0);
const CPU_COLOR: RGBColor = RGBColor(0, 158, 115);
const MEMORY_COLOR: RGBColor = RGBColor(204, 121, 167);
const COST_COLOR: RGBColor = RGBColor(86, 180, 233);

/// Keeps at most `max_points` rows, taking the maximum of each bucket's
/// counts so short spikes of pending pods stay visible.
fn thin(rows: &[ClusterRow], max_points: usize) -> Vec<ClusterRow> {
    let step = rows.len().div_ceil(max_points.max(1)).max(1);
    rows.chunks(step)
        .map(|c| {
            let mut r = c.last().expect("chunks are not empty").clone();
            for x in c {
                r.nodes_ready = r.nodes_ready.max(x.nodes_ready);
                r.nodes_provisioning = r.nodes_provisioning.max(x.nodes_provisioning);
                r.nodes_deleting = r.nodes_deleting.max(x.nodes_deleting);
                r.pending_pods = r.pending_pods.max(x.pending_pods);
            }
            r
        })
        .collect()
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| 100.0 * a as f64 / b as f64)
}

/// Four panels over one time axis: nodes by phase, pods waiting for a node
/// (on their own axis: hundreds of pending pods would flatten a handful of
/// nodes), how much of the Ready nodes pods request, and the cost so far.
pub(super) fn cluster_svg(rows: &[ClusterRow], duration: f64) -> Result<String, PlotError> {
    const NAME: &str = "cluster.svg";
    let rows = thin(rows, super::MAX_POINTS);
    let t: Vec<f64> = rows.iter().map(|r| r.time).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 4 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let p = panels(&root, 4);

        let (area, leg) = &p[0];
        let ymax = rows
            .iter()
            .map(|r| (r.nodes_ready + r.nodes_provisioning + r.nodes_deleting) as f64)
            .fold(0.0, f64::max);
        let mut ch = time_panel(
            area,
            "Nodes",
            duration,
            0.0..(ymax * 1.08).ceil().max(2.0),
            "nodes",
            NAME,
        )?;
        let series: [(&str, RGBColor, u32, Vec<f64>); 3] = [
            (
                "Ready",
                NODES_COLOR,
                3,
                rows.iter().map(|r| r.nodes_ready as f64).collect(),
            ),
            (
                "provisioning",
                PROVISIONING_COLOR,
                2,
                rows.iter().map(|r| r.nodes_provisioning as f64).collect(),
            ),
            (
                "being drained or deleted",
                DELETING_COLOR,
                2,
                rows.iter().map(|r| r.nodes_deleting as f64).collect(),
            ),
        ];
        let mut legend = Vec::new();
        for (label, color, w, ys) in &series {
            draw_lines(
                &mut ch,
                &t,
                ys.iter().map(|&v| Some(v)),
                color.stroke_width(*w),
                NAME,
            )?;
            legend.push(LegendEntry::new(*label, Swatch::Line(*color, *w)));
        }
        draw_legend(leg, &legend, NAME)?;

        let (area, leg) = &p[1];
        let ymax = rows
            .iter()
            .map(|r| r.pending_pods as f64)
            .fold(0.0, f64::max);
        let mut ch = time_panel(
            area,
            "Pods waiting for a node",
            duration,
            0.0..(ymax * 1.08).ceil().max(2.0),
            "pods",
            NAME,
        )?;
        draw_lines(
            &mut ch,
            &t,
            rows.iter().map(|r| Some(r.pending_pods as f64)),
            PENDING_COLOR.stroke_width(2),
            NAME,
        )?;
        draw_legend(
            leg,
            &[LegendEntry::new(
                "pods waiting for a node",
                Swatch::Line(PENDING_COLOR, 2),
            )],
            NAME,
        )?;

        let (area, leg) = &p[2];
        let mut ch = time_panel(
            area,
            "Requested / allocatable on Ready nodes",
            duration,
            0.0..105.0,
            "% requested",
            NAME,
        )?;
        draw_lines(
            &mut ch,
            &t,
            rows.iter()
                .map(|r| ratio(r.cpu_requested_milli, r.cpu_allocatable_milli)),
            CPU_COLOR.stroke_width(2),
            NAME,
        )?;
        draw_lines(
            &mut ch,
            &t,
            rows.iter()
                .map(|r| ratio(r.memory_requested_bytes, r.memory_allocatable_bytes)),
            MEMORY_COLOR.stroke_width(2),
            NAME,
        )?;
        draw_legend(
            leg,
            &[
                LegendEntry::new("CPU", Swatch::Line(CPU_COLOR, 2)),
                LegendEntry::new("memory", Swatch::Line(MEMORY_COLOR, 2)),
            ],
            NAME,
        )?;

        let (area, leg) = &p[3];
        let ymax = rows.iter().map(|r| r.cost).fold(0.0, f64::max);
        let mut ch = time_panel(
            area,
            "Node cost so far",
            duration,
            0.0..(ymax * 1.08).max(0.01),
            "cost",
            NAME,
        )?;
        draw_lines(
            &mut ch,
            &t,
            rows.iter().map(|r| r.cost.is_finite().then_some(r.cost)),
            COST_COLOR.stroke_width(2),
            NAME,
        )?;
        let label = if rows.iter().any(|r| r.cost.is_finite()) {
            "node-hours × price per hour"
        } else {
            "no cost column in this cluster.csv"
        };
        draw_legend(
            leg,
            &[LegendEntry::new(label, Swatch::Line(COST_COLOR, 2))],
            NAME,
        )?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

/// Reads `cluster.csv` (its fixed leading columns; the per-pool ones are
/// summed into them already).
pub(crate) fn read_cluster_csv(path: &std::path::Path) -> Result<Vec<ClusterRow>, PlotError> {
    let csv_err = |source| PlotError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut rdr = csv::Reader::from_path(path).map_err(csv_err)?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_string)
        .collect();
    // Files written before the cost column have none: their cost is NaN,
    // and the chart says the column is missing rather than drawing zeros.
    let has_cost = header.get(9).is_some_and(|h| h == "cost");
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(csv_err)?;
        let f = |c: usize| -> Result<f64, PlotError> {
            let value = rec.get(c).unwrap_or("");
            value.parse::<f64>().map_err(|_| PlotError::NotANumber {
                row: i + 1,
                column: header
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", c + 1)),
                value: value.to_string(),
            })
        };
        rows.push(ClusterRow {
            time: f(0)?,
            nodes_ready: f(1)? as u32,
            nodes_provisioning: f(2)? as u32,
            nodes_deleting: f(3)? as u32,
            pending_pods: f(4)? as u32,
            cpu_requested_milli: f(5)? as i64,
            cpu_allocatable_milli: f(6)? as i64,
            memory_requested_bytes: f(7)? as i64,
            memory_allocatable_bytes: f(8)? as i64,
            cost: if has_cost { f(9)? } else { f64::NAN },
            pools: Vec::new(),
        });
    }
    Ok(rows)
}
