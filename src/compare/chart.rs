//! Charts of predicted against measured: the latency CDFs (log-scaled
//! latency) and requests in flight per second.

use super::{CompareError, Measurement, Prediction};
use crate::plot::style::{revision_color, FONT, TOTAL_COLOR};
use plotters::prelude::*;

use std::path::{Path, PathBuf};

fn err(path: &Path, e: impl std::fmt::Display) -> CompareError {
    CompareError::Write {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// Writes `latency-cdf.svg` and (when both sides have it) `concurrency.svg`
/// into `dir`; returns the files written.
pub fn write_charts(
    dir: &Path,
    p: &Prediction,
    m: &Measurement,
) -> Result<Vec<PathBuf>, CompareError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let mut out = Vec::new();
    let cdf = dir.join("latency-cdf.svg");
    latency_cdf(&cdf, p, m).map_err(|e| err(&cdf, e))?;
    out.push(cdf);
    if let Some(meas) = &m.concurrency {
        if p.in_flight.iter().any(|s| !s.is_empty()) {
            let c = dir.join("concurrency.svg");
            concurrency(&c, p, meas).map_err(|e| err(&c, e))?;
            out.push(c);
        }
    }
    Ok(out)
}

/// One polyline (plotters' line series needs a feature the workspace
/// leaves off).
fn line(pts: Vec<(f64, f64)>, style: ShapeStyle) -> std::iter::Once<PathElement<(f64, f64)>> {
    std::iter::once(PathElement::new(pts, style))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn latency_cdf(path: &Path, p: &Prediction, m: &Measurement) -> DrawResult {
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 0.0;
    for s in &p.summaries {
        for q in &s.latency_distribution {
            lo = lo.min(q.latency_ms);
            hi = hi.max(q.latency_ms);
        }
    }
    if let Some(x) = &m.latencies_ms {
        if let (Some(a), Some(b)) = (x.first(), x.last()) {
            lo = lo.min(*a);
            hi = hi.max(*b);
        }
    }
    let lo = if lo.is_finite() && lo > 0.0 {
        lo * 0.8
    } else {
        0.1
    };
    let hi = (hi * 1.2).max(lo * 10.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("Latency CDF: predicted vs measured", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("latency, ms (log scale)")
        .y_desc("fraction of successful requests")
        .draw()?;
    for (i, s) in p.summaries.iter().enumerate() {
        let color = revision_color(0);
        let pts: Vec<(f64, f64)> = s
            .latency_distribution
            .iter()
            .map(|q| (q.latency_ms.max(lo), q.quantile))
            .collect();
        let series = chart.draw_series(line(pts, color.stroke_width(2)))?;
        if i == 0 {
            series
                .label(format!("predicted ({} replication(s))", p.summaries.len()))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
    }
    if let Some(x) = &m.latencies_ms {
        let n = x.len();
        // At most ~2000 points keep the SVG small.
        let step = (n / 2000).max(1);
        let pts: Vec<(f64, f64)> = x
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, v)| (v.max(lo), (i + 1) as f64 / n as f64))
            .collect();
        let color = revision_color(1);
        chart
            .draw_series(line(pts, color.stroke_width(2)))?
            .label(format!("measured ({n} requests)"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(TOTAL_COLOR)
        .background_style(WHITE)
        .label_font((FONT, 14))
        .draw()?;
    root.present()?;
    Ok(())
}

fn concurrency(path: &Path, p: &Prediction, meas: &[f64]) -> DrawResult {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let len = p
        .in_flight
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(meas.len())
        .max(1);
    let top = p
        .in_flight
        .iter()
        .flatten()
        .chain(meas.iter())
        .cloned()
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Requests in flight per second: predicted vs measured",
            (FONT, 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..len as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("time, s")
        .y_desc("requests in flight")
        .draw()?;
    for (i, s) in p.in_flight.iter().enumerate() {
        let color = revision_color(0);
        let series = chart.draw_series(line(
            s.iter()
                .enumerate()
                .map(|(t, v)| (t as f64 + 1.0, *v))
                .collect(),
            color.stroke_width(1),
        ))?;
        if i == 0 {
            series
                .label("predicted (end of each second)")
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
    }
    let color = revision_color(1);
    chart
        .draw_series(line(
            meas.iter()
                .enumerate()
                .map(|(t, v)| (t as f64 + 1.0, *v))
                .collect(),
            color.stroke_width(1),
        ))?
        .label("measured (average over each second)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .border_style(TOTAL_COLOR)
        .background_style(WHITE)
        .label_font((FONT, 14))
        .draw()?;
    root.present()?;
    Ok(())
}
