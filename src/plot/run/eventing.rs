//! `eventing.svg`: event delivery attempts against first tries per second,
//! for a run with Knative Eventing. The gap between the two lines is the
//! load retries add.

use super::draw::*;
use super::{RunData, MAX_POINTS};
use crate::plot::error::{draw_err, PlotError};
use crate::plot::style::*;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Per second over all revisions: first attempts, retries, delivered,
/// dead-lettered.
fn totals(data: &RunData) -> BTreeMap<u64, [f64; 4]> {
    let mut by_t: BTreeMap<u64, [f64; 4]> = BTreeMap::new();
    for r in &data.rows {
        let e = by_t.entry(r.time_s).or_default();
        for (i, v) in [
            r.event_first_attempts,
            r.event_retries,
            r.events_delivered,
            r.events_dead_lettered,
        ]
        .into_iter()
        .enumerate()
        {
            e[i] += v.unwrap_or(0) as f64;
        }
    }
    by_t
}

/// Whether the run's timeseries has the eventing columns.
pub(super) fn has_columns(data: &RunData) -> bool {
    data.rows.iter().any(|r| r.event_first_attempts.is_some())
}

pub(super) fn eventing_svg(data: &RunData) -> Result<String, PlotError> {
    const NAME: &str = "eventing.svg";
    let by_t = totals(data);
    let step = by_t.len().div_ceil(MAX_POINTS).max(1);
    let secs: Vec<(u64, [f64; 4])> = by_t.into_iter().collect();
    let mut t = Vec::new();
    let mut cols: [Vec<f64>; 4] = Default::default();
    for chunk in secs.chunks(step) {
        t.push(chunk[chunk.len() - 1].0 as f64);
        for (i, c) in cols.iter_mut().enumerate() {
            c.push(chunk.iter().map(|(_, v)| v[i]).sum::<f64>() / chunk.len() as f64);
        }
    }
    let attempts: Vec<f64> = cols[0].iter().zip(&cols[1]).map(|(a, b)| a + b).collect();
    let duration = data.summary.simulated_seconds.max(1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err(NAME))?;
        let areas = panels(&root, 1);
        let ymax = axis_top(attempts.iter().copied().fold(0.0, f64::max));
        let mut ch = ChartBuilder::on(&areas[0].0)
            .caption("Event deliveries", (FONT, 24))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..duration, 0.0..ymax)
            .map_err(draw_err(NAME))?;
        let unit = if step > 1 {
            "per second (step average)"
        } else {
            "per second"
        };
        mesh_style(&mut ch, "time (s)", unit, Some(&num_label), None, NAME)?;
        let delivered = RGBColor(0, 158, 115);
        let first = RGBColor(86, 180, 233);
        let lines = [
            (
                "attempts (first tries + retries)",
                &attempts,
                TOTAL_COLOR,
                2,
            ),
            ("first tries", &cols[0], first, 2),
            ("delivered", &cols[2], delivered, 1),
            ("dead-lettered", &cols[3], ERROR_COLOR, 2),
        ];
        let mut legend = Vec::new();
        for (label, ys, color, w) in lines {
            draw_lines(
                &mut ch,
                &t,
                ys.iter().map(|&v| Some(v)),
                color.stroke_width(w),
                NAME,
            )?;
            legend.push(LegendEntry::new(label, Swatch::Line(color, w)));
        }
        draw_legend(&areas[0].1, &legend, NAME)?;
        root.present().map_err(draw_err(NAME))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Summary, TimeseriesRow};

    fn row(t: u64, rev: &str, first: u64, retries: u64) -> TimeseriesRow {
        TimeseriesRow {
            time_s: t,
            revision: rev.into(),
            event_first_attempts: Some(first),
            event_retries: Some(retries),
            events_delivered: Some(first),
            events_dead_lettered: Some(0),
            ..Default::default()
        }
    }

    #[test]
    fn totals_add_revisions_of_a_second() {
        let data = RunData {
            summary: Summary {
                simulated_seconds: 2.0,
                ..Default::default()
            },
            rows: vec![row(1, "a", 3, 1), row(1, "b", 2, 4), row(2, "a", 1, 0)],
        };
        let t = totals(&data);
        assert_eq!(t[&1], [5.0, 5.0, 5.0, 0.0]);
        assert_eq!(t[&2], [1.0, 0.0, 1.0, 0.0]);
        assert!(has_columns(&data));
        let svg = eventing_svg(&data).unwrap();
        assert!(svg.contains("first tries") && svg.contains("dead-lettered"));
    }
}
