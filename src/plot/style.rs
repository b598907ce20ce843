//! Shared look: palette, fonts, the legend column beside each panel.

use super::error::{draw_err, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Chart width in pixels; heights depend on the number of panels.
pub const WIDTH: u32 = 1100;
/// Width of the legend column to the right of each panel.
pub const LEGEND_WIDTH: u32 = 270;
/// Generic family so no font files are needed; the viewer resolves it.
pub const FONT: &str = "sans-serif";

/// Okabe–Ito colours, distinguishable with the common colour-vision
/// deficiencies; used in order for revisions.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 120, 120), // grey
];

/// Colour of the `i`-th revision.
pub fn revision_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` blended towards white by `f` (0 = unchanged, 1 = white): a lighter
/// line that stays opaque, so crossings do not darken.
pub fn lighten(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * f).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Shading of panic-mode periods.
pub const PANIC_SHADE: RGBColor = RGBColor(230, 60, 60);
/// [`PANIC_SHADE`] as the SVG writes it, for tests and post-processing.
pub const PANIC_SHADE_HEX: &str = "#E63C3C";
/// Opacity of [`PANIC_SHADE`].
pub const PANIC_ALPHA: f64 = 0.22;
/// Shading of activator-in-path periods.
pub const ACTIVATOR_SHADE: RGBColor = RGBColor(90, 150, 230);
/// [`ACTIVATOR_SHADE`] as the SVG writes it.
pub const ACTIVATOR_SHADE_HEX: &str = "#5A96E6";
/// Opacity of [`ACTIVATOR_SHADE`].
pub const ACTIVATOR_ALPHA: f64 = 0.16;
/// The ready-pods line colour as the SVG writes it.
pub const READY_HEX: &str = "#0072B2";
/// Colour of errors.
pub const ERROR_COLOR: RGBColor = RGBColor(200, 0, 0);
/// Colour of totals over all revisions.
pub const TOTAL_COLOR: RGBColor = RGBColor(30, 30, 30);

/// What a legend entry shows beside its label.
#[derive(Clone, Copy, Debug)]
pub enum Swatch {
    /// A line of the given colour and width.
    Line(RGBColor, u32),
    /// A translucent band of the given colour and opacity.
    Band(RGBColor, f64),
    /// A filled dot.
    Dot(RGBColor),
    /// A hollow circle.
    Ring(RGBColor),
}

/// One legend line.
#[derive(Clone, Debug)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        LegendEntry {
            label: label.into(),
            swatch,
        }
    }
}

/// Draws legend entries top-down in `area` (the column right of a panel),
/// starting level with the top of the plotting area.
pub fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[LegendEntry],
    chart: &str,
) -> Result<(), PlotError> {
    let top = 48;
    let step = 22;
    for (i, e) in entries.iter().enumerate() {
        let y = top + i as i32 * step;
        let (x0, x1) = (8, 34);
        match e.swatch {
            Swatch::Line(c, w) => area
                .draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    c.stroke_width(w.max(2)),
                ))
                .map_err(draw_err(chart))?,
            Swatch::Band(c, a) => area
                .draw(&Rectangle::new(
                    [(x0, y - 7), (x1, y + 7)],
                    c.mix(a.max(0.3)).filled(),
                ))
                .map_err(draw_err(chart))?,
            Swatch::Dot(c) => area
                .draw(&Circle::new(((x0 + x1) / 2, y), 5, c.filled()))
                .map_err(draw_err(chart))?,
            Swatch::Ring(c) => area
                .draw(&Circle::new(((x0 + x1) / 2, y), 5, c.stroke_width(2)))
                .map_err(draw_err(chart))?,
        }
        area.draw(&Text::new(
            clip_label(&e.label),
            (x1 + 8, y),
            (FONT, 17)
                .into_font()
                .color(&BLACK)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
        ))
        .map_err(draw_err(chart))?;
    }
    Ok(())
}

/// Axis numbers without needless decimals: 20, 2.5, 0.25.
pub fn num_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Longest legend label that fits the legend column at the legend's font
/// size; longer ones are cut with an ellipsis rather than run off the SVG.
pub const LEGEND_CHARS: usize = 30;

/// `label`, cut to [`LEGEND_CHARS`] characters.
pub fn clip_label(label: &str) -> String {
    if label.chars().count() <= LEGEND_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LEGEND_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// A top for a linear axis starting at 0 that leaves headroom above `max`
/// and is never empty.
pub fn axis_top(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        1.0
    } else {
        max * 1.08
    }
}

/// Splits `(x, y)` points into runs of consecutive defined values, so a
/// line is broken where there is no data instead of dropping to zero.
pub fn segments(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() => cur.push((x, y)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Maximal runs `[start, end)` of `true` in `flags`, where element `i`
/// covers `[times[i] - width, times[i])`.
pub fn true_runs(times: &[f64], flags: &[bool], width: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut start: Option<f64> = None;
    let mut last_end = 0.0;
    for (&t, &f) in times.iter().zip(flags) {
        if f {
            if start.is_none() {
                start = Some(t - width);
            }
            last_end = t;
        } else if let Some(s) = start.take() {
            out.push((s, last_end));
        }
    }
    if let Some(s) = start {
        out.push((s, last_end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_break_at_missing_values() {
        let s = segments(vec![
            (1.0, Some(1.0)),
            (2.0, None),
            (3.0, Some(3.0)),
            (4.0, Some(4.0)),
            (5.0, Some(f64::NAN)),
        ]);
        assert_eq!(s, vec![vec![(1.0, 1.0)], vec![(3.0, 3.0), (4.0, 4.0)]]);
    }

    #[test]
    fn true_runs_cover_whole_seconds() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0];
        let f = [true, true, false, false, true];
        assert_eq!(true_runs(&t, &f, 1.0), vec![(0.0, 2.0), (4.0, 5.0)]);
        assert!(true_runs(&t, &[false; 5], 1.0).is_empty());
    }

    #[test]
    fn hex_names_match_colours() {
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert_eq!(hex(PANIC_SHADE), PANIC_SHADE_HEX);
        assert_eq!(hex(ACTIVATOR_SHADE), ACTIVATOR_SHADE_HEX);
        assert_eq!(hex(super::super::run::READY_COLOR), READY_HEX);
    }

    #[test]
    fn long_legend_labels_are_cut() {
        assert_eq!(clip_label("short"), "short");
        let long = "x".repeat(LEGEND_CHARS + 5);
        let cut = clip_label(&long);
        assert_eq!(cut.chars().count(), LEGEND_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn axis_top_is_never_empty() {
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(f64::NAN), 1.0);
        assert!(axis_top(10.0) > 10.0);
    }
}
