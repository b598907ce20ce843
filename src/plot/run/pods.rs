//! `pods.svg`: desired, ready and pending pods, with panic and activator shading.

use super::draw::*;
use super::series::{max, Prepared};
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;

/// Colours of the pod lines.
pub(crate) const READY_COLOR: RGBColor = RGBColor(0, 114, 178);
pub(super) const DESIRED_COLOR: RGBColor = RGBColor(30, 30, 30);
pub(super) const PENDING_COLOR: RGBColor = RGBColor(230, 159, 0);

pub(super) fn pods_svg(p: &Prepared) -> Result<String, PlotError> {
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
