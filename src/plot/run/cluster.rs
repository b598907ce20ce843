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

pub(super) fn cluster_svg(rows: &[ClusterRow], duration: f64) -> Result<String, PlotError> {
    const NAME: &str = "cluster.svg";
    let rows = thin(rows, super::MAX_POINTS);
    let t: Vec<f64> = rows.iter().map(|r| r.time).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 2 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let p = panels(&root, 2);
        let (top, top_leg) = &p[0];
        let ymax = rows
            .iter()
            .map(|r| {
                (r.nodes_ready + r.nodes_provisioning + r.nodes_deleting).max(r.pending_pods) as f64
            })
            .fold(0.0, f64::max);
        let ymax = (ymax * 1.08).ceil().max(2.0);
        let mut ch = ChartBuilder::on(top)
            .caption("Nodes", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..duration.max(1.0), 0.0..ymax)
            .map_err(draw_err(NAME))?;
        mesh_style(
            &mut ch,
            "time (s)",
            "nodes / pods",
            Some(&num_label),
            None,
            NAME,
        )?;
        let series: [(&str, RGBColor, u32, Vec<f64>); 4] = [
            (
                "Ready nodes",
                NODES_COLOR,
                3,
                rows.iter().map(|r| r.nodes_ready as f64).collect(),
            ),
            (
                "provisioning nodes",
                PROVISIONING_COLOR,
                2,
                rows.iter().map(|r| r.nodes_provisioning as f64).collect(),
            ),
            (
                "nodes being deleted",
                DELETING_COLOR,
                2,
                rows.iter().map(|r| r.nodes_deleting as f64).collect(),
            ),
            (
                "pods waiting for a node",
                PENDING_COLOR,
                1,
                rows.iter().map(|r| r.pending_pods as f64).collect(),
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
        draw_legend(top_leg, &legend, NAME)?;

        let (bottom, bottom_leg) = &p[1];
        let mut ch = ChartBuilder::on(bottom)
            .caption("Requested / allocatable on Ready nodes", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..duration.max(1.0), 0.0..105.0)
            .map_err(draw_err(NAME))?;
        mesh_style(
            &mut ch,
            "time (s)",
            "% requested",
            Some(&num_label),
            None,
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
            bottom_leg,
            &[
                LegendEntry::new("CPU", Swatch::Line(CPU_COLOR, 2)),
                LegendEntry::new("memory", Swatch::Line(MEMORY_COLOR, 2)),
            ],
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
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        let f = |i: usize| rec.get(i).unwrap_or("0").parse::<f64>().unwrap_or(0.0);
        rows.push(ClusterRow {
            time: f(0),
            nodes_ready: f(1) as u32,
            nodes_provisioning: f(2) as u32,
            nodes_deleting: f(3) as u32,
            pending_pods: f(4) as u32,
            cpu_requested_milli: f(5) as i64,
            cpu_allocatable_milli: f(6) as i64,
            memory_requested_bytes: f(7) as i64,
            memory_allocatable_bytes: f(8) as i64,
            pools: Vec::new(),
        });
    }
    Ok(rows)
}
