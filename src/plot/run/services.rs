//! `services.svg`: one small chart per Service (ready and pending pods over
//! its revisions), for a run with several Services.

use super::series::{max, Prepared};
use super::READY_COLOR;
use crate::model::Summary;
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

const COLUMNS: usize = 4;
const CELL_HEIGHT: u32 = 210;
const PENDING: RGBColor = RGBColor(230, 159, 0);

/// Sums the step columns of every revision named `service/…`.
fn service_columns(p: &Prepared, service: &str) -> (Vec<f64>, Vec<f64>) {
    let mut ready = vec![0.0; p.t.len()];
    let mut pending = vec![0.0; p.t.len()];
    let own = p
        .revs
        .iter()
        .filter(|r| r.name.split_once('/').is_some_and(|(s, _)| s == service));
    for r in own {
        for (i, (a, b)) in r.ready.iter().zip(&r.pending).enumerate().take(ready.len()) {
            ready[i] += a;
            pending[i] += b;
        }
    }
    (ready, pending)
}

pub(super) fn services_svg(p: &Prepared, summary: &Summary) -> Result<String, PlotError> {
    const NAME: &str = "services.svg";
    let n = summary.services.len();
    let rows = n.div_ceil(COLUMNS).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, rows as u32 * CELL_HEIGHT))
            .into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let cells = root.split_evenly((rows, COLUMNS));
        for (s, cell) in summary.services.iter().zip(cells) {
            let (ready, pending) = service_columns(p, &s.name);
            let ymax = (max(&ready).max(max(&pending)).max(1.0) * 1.1).ceil();
            let mut ch = ChartBuilder::on(&cell)
                .caption(
                    clip_label(&format!(
                        "{}: {} req, {} cold",
                        s.name, s.requests.arrived, s.cold_starts
                    )),
                    (FONT, 14),
                )
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(34)
                .build_cartesian_2d(0.0..p.duration, 0.0..ymax)
                .map_err(draw_err(NAME))?;
            ch.configure_mesh()
                .label_style((FONT, 11))
                .bold_line_style(RGBColor(225, 225, 225))
                .light_line_style(TRANSPARENT)
                .x_labels(4)
                .y_labels(4)
                .x_label_formatter(&num_label)
                .y_label_formatter(&num_label)
                .draw()
                .map_err(draw_err(NAME))?;
            for (ys, color, w) in [(&pending, PENDING, 1), (&ready, READY_COLOR, 2)] {
                let segs = segments(p.t.iter().copied().zip(ys.iter().map(|&v| Some(v))));
                ch.draw_series(
                    segs.into_iter()
                        .map(|s| PathElement::new(s, color.stroke_width(w))),
                )
                .map_err(draw_err(NAME))?;
            }
        }
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}
