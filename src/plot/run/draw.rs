//! Drawing pieces shared by the run charts: panels, axes, shading, lines.

use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Height of one panel in pixels.
pub(super) const PANEL_HEIGHT: u32 = 330;

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Splits `root` into `n` stacked panels, each with its legend column.
pub(super) fn panels<'a>(root: &Area<'a>, n: usize) -> Vec<(Area<'a>, Area<'a>)> {
    root.split_evenly((n, 1))
        .into_iter()
        .map(|a| a.split_horizontally(WIDTH - LEGEND_WIDTH))
        .collect()
}

/// A chart over simulated time on one panel: the house caption, margins and
/// label areas, and the mesh with `y_desc` on numeric axes.
pub(super) fn time_panel<'c, 'b>(
    area: &Area<'b>,
    caption: &str,
    duration: f64,
    y: std::ops::Range<f64>,
    y_desc: &str,
    name: &str,
) -> Result<ChartContext<'c, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>, PlotError>
{
    let mut ch = ChartBuilder::on(area)
        .caption(caption, (FONT, 24))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..duration.max(1.0), y)
        .map_err(draw_err(name))?;
    mesh_style(&mut ch, "time (s)", y_desc, Some(&num_label), None, name)?;
    Ok(ch)
}

/// An axis label formatter.
pub(super) type LabelFmt<'f, V> = &'f dyn Fn(&V) -> String;

pub(super) fn mesh_style<'a, 'b, X, Y>(
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

pub(super) fn shade_runs<'a, Y: Ranged<ValueType = f64>>(
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

pub(super) fn draw_lines<'a, Y: Ranged<ValueType = f64>>(
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
