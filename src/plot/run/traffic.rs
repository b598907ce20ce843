//! `traffic.svg`: share of requests routed to each revision.

use super::draw::*;
use super::series::Prepared;
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

/// Seconds per traffic-share window: per-second shares of a few requests
/// are mostly noise.
pub(super) fn share_window(step: usize) -> usize {
    step.max(10)
}

pub(super) fn traffic_svg(p: &Prepared) -> Result<String, PlotError> {
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
