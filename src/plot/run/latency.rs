//! `latency.svg` and `latency-cdf.svg`: latency over time and its distribution.

use super::draw::*;
use super::series::Prepared;
use super::{RunData, READY_COLOR};
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

/// Log-axis bounds around positive values, padded to whole decades' halves.
pub(super) fn log_bounds(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
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

pub(super) fn ms_label(v: &f64) -> String {
    if *v >= 1000.0 {
        format!("{}", v)
    } else if *v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

pub(super) fn latency_svg(p: &Prepared) -> Result<String, PlotError> {
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
pub(super) fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

pub(super) fn cdf_svg(data: &RunData) -> Result<String, PlotError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_and_log_bounds() {
        assert!((nines(0.99) - 2.0).abs() < 1e-9);
        assert_eq!(log_bounds([20.0, 3000.0]), (10.0, 10000.0));
        assert_eq!(log_bounds(std::iter::empty()), (1.0, 10.0));
    }
}
