//! `requests.svg`: request rates and requests in the system.

use super::draw::*;
use super::series::{max, Prepared};
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

pub(super) fn requests_svg(p: &Prepared) -> Result<String, PlotError> {
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
