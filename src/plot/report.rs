//! The one-page HTML report: summary tables and the charts inlined as SVG,
//! with no scripts and no external resources, so it opens offline and can
//! be attached to a review as a single file.

use super::run::{fmt_ms, Chart};
use super::sweep::SweepTable;
use crate::model::{LatencySummary, RequestCounts, Summary};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
       margin: 24px auto; max-width: 1140px; padding: 0 16px; color: #222; line-height: 1.4; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; }
th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: flex; flex-wrap: wrap; gap: 0 32px; }
figure { margin: 0 0 20px; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 14px; margin: 2px 0 0; max-width: 1000px; }
tr.front td { background: #fff2e6; }
.wide { overflow-x: auto; }
";

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.2}%", 100.0 * n as f64 / of as f64)
    }
}

fn head(out: &mut String, title: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
}

/// Inlines an SVG document: drops an XML declaration if there is one, so
/// the element can sit inside HTML.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    if s.starts_with("<?xml") {
        s.find("?>").map_or(s, |i| s[i + 2..].trim_start())
    } else {
        s
    }
}

fn figures(out: &mut String, charts: &[Chart]) {
    for c in charts {
        let _ = writeln!(
            out,
            "<h2 id=\"{}\">{}</h2>\n<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
            esc(c.file_name.trim_end_matches(".svg")),
            esc(&c.title),
            inline_svg(&c.svg),
            esc(&c.description)
        );
    }
}

fn counts_rows(out: &mut String, r: &RequestCounts) {
    let rows = [
        ("arrived", r.arrived.to_string()),
        ("answered 200", r.completed.to_string()),
        (
            "503 (queue full)",
            format!("{} ({})", r.status_503, pct(r.status_503, r.arrived)),
        ),
        (
            "504 (timeout)",
            format!("{} ({})", r.status_504, pct(r.status_504, r.arrived)),
        ),
        ("404 (unknown tag)", r.status_404.to_string()),
        ("in flight at end", r.in_flight_at_end.to_string()),
        (
            "waited on a cold start",
            format!(
                "{} ({})",
                r.waited_on_cold_start,
                pct(r.waited_on_cold_start, r.arrived)
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{k}</th><td class=\"n\">{}</td></tr>", esc(&v));
    }
}

fn latency_cells(l: &LatencySummary) -> String {
    [l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, l.mean_ms]
        .iter()
        .map(|&v| format!("<td class=\"n\">{}</td>", esc(&fmt_ms(v))))
        .collect()
}

/// The report of one run: what ran, request outcomes, latency, pods and
/// autoscaler time per revision, then every chart inline.
///
/// The summary holds no wall-clock field, so the same run always gives the
/// same page.
pub fn report_html(summary: &Summary, charts: &[Chart]) -> String {
    report_html_with(summary, charts, "")
}

/// [`report_html`] with `extra` (an HTML section, such as the scaling steps
/// of a decision log) after the charts.
pub fn report_html_with(summary: &Summary, charts: &[Chart], extra: &str) -> String {
    let s = summary;
    let mut out = String::new();
    head(&mut out, &format!("knsim: {}", s.scenario));
    let _ = writeln!(out, "<h1>{}</h1>", esc(&s.scenario));
    let _ = writeln!(
        out,
        "<p class=\"sub\">knsim run, seed {}, {:.0} simulated seconds, {} events, {} revision(s).</p>",
        s.seed,
        s.simulated_seconds,
        s.performance.events_processed,
        s.revisions.len()
    );
    if let Some(w) = &s.window {
        let _ = writeln!(
            out,
            "<p class=\"sub\">Request counts and latencies cover the requests arriving from {:.0} s to {:.0} s (warm-up and measurement window); cold starts, pod-seconds and pods ready cover the whole run.</p>",
            w.start_s, w.end_s
        );
    }
    out.push_str("<div class=\"grid\">\n<div>\n<h2>Requests</h2>\n<table>\n");
    counts_rows(&mut out, &s.requests);
    out.push_str("</table>\n</div>\n<div>\n<h2>Capacity and autoscaler</h2>\n<table>\n");
    let rows = [
        ("cold starts", s.cold_starts.to_string()),
        ("pod-seconds (cost)", format!("{:.0}", s.pod_seconds)),
        ("most pods ready at once", s.max_ready_pods.to_string()),
        ("seconds in panic mode", s.panic_seconds.to_string()),
        (
            "seconds with the activator in path",
            s.activator_in_path_seconds.to_string(),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{k}</th><td class=\"n\">{}</td></tr>", esc(&v));
    }
    out.push_str("</table>\n</div>\n</div>\n");

    out.push_str("<h2>Latency of successful requests</h2>\n<table>\n<tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>mean</th></tr>\n");
    let _ = writeln!(out, "<tr><th>all</th>{}</tr>", latency_cells(&s.latency));
    for r in &s.revisions {
        let _ = writeln!(
            out,
            "<tr><th>{}</th>{}</tr>",
            esc(&r.name),
            latency_cells(&r.latency)
        );
    }
    out.push_str("</table>\n");
    if let Some(w) = &s.window {
        out.push_str(&batch_means_html(&w.batch_means));
    }

    out.push_str("<h2>Revisions</h2>\n<table>\n<tr><th>revision</th><th>traffic share</th><th>arrived</th><th>503</th><th>504</th><th>cold starts</th><th>max ready</th><th>pod-seconds</th><th>panic s</th><th>activator s</th></tr>\n");
    for r in &s.revisions {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"n\">{:.1}%</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.0}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.name),
            100.0 * r.observed_share,
            r.requests.arrived,
            r.requests.status_503,
            r.requests.status_504,
            r.cold_starts,
            r.max_ready_pods,
            r.pod_seconds,
            r.panic_seconds,
            r.activator_in_path_seconds
        );
    }
    out.push_str("</table>\n");
    if let Some(ev) = &s.eventing {
        out.push_str(&eventing_html(ev));
    }
    figures(&mut out, charts);
    out.push_str(extra);
    out.push_str("</body>\n</html>\n");
    out
}

/// Per Trigger what happened to its events, and per subscriber Service the
/// share of its load that was retries.
fn eventing_html(ev: &crate::model::EventingSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<h2 id=\"eventing-triggers\">Eventing: Triggers</h2>\n<p>{} events sent to the Broker. Latency runs from the source's send to the 2xx of the successful attempt.</p>\n<div class=\"wide\">\n<table>\n<tr><th>Trigger</th><th>subscriber</th><th>matched</th><th>first try</th><th>after retries</th><th>dead-lettered</th><th>lost</th><th>in flight</th><th>attempts</th><th>attempts per finished event</th><th>p50</th><th>p99</th></tr>",
        ev.events_sent
    );
    for t in &ev.triggers {
        let after: u64 = t.delivered_after_retries.iter().sum();
        let finished = t.delivered_first_try + after + t.dead_lettered + t.failed_without_sink;
        let per = if finished == 0 {
            "–".to_string()
        } else {
            format!("{:.3}", t.attempts_of_finished as f64 / finished as f64)
        };
        let n = |v: u64| format!("<td class=\"n\">{v}</td>");
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td>{}{}{}{}{}{}{}<td class=\"n\">{per}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&t.name),
            esc(&t.subscriber),
            n(t.matched),
            n(t.delivered_first_try),
            n(after),
            n(t.dead_lettered),
            n(t.failed_without_sink),
            n(t.in_flight_at_end),
            n(t.attempts),
            esc(&fmt_ms(t.delivery_latency.p50_ms)),
            esc(&fmt_ms(t.delivery_latency.p99_ms)),
        );
    }
    out.push_str("</table>\n</div>\n<h2 id=\"eventing-services\">Eventing: load on subscriber Services</h2>\n<table>\n<tr><th>Service</th><th>requests</th><th>event first attempts</th><th>event retries</th><th>retry share</th></tr>\n");
    for s in &ev.services {
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td></tr>",
            esc(&s.name),
            s.requests,
            s.event_first_attempts,
            s.event_retries,
            100.0 * s.retry_share
        );
    }
    out.push_str("</table>\n");
    out
}

fn batch_means_html(b: &crate::model::BatchMeans) -> String {
    let cell = |i: Option<crate::model::Interval>| match i {
        Some(i) => format!(
            "<td class=\"n\">{} ± {}</td>",
            fmt_ms(i.estimate),
            fmt_ms(i.half_width)
        ),
        None => "<td class=\"n\">-</td>".into(),
    };
    let mut out = String::new();
    if b.batches == 0 {
        let _ = writeln!(
            out,
            "<p>No batch-means interval: a batch of {:.0} s had only {} successful requests (100 are needed in each of at least 5 batches).</p>",
            b.batch_seconds, b.min_batch_completed
        );
        return out;
    }
    let _ = writeln!(
        out,
        "<p>95% batch-means intervals over {} batches of {:.0} s (lag-1 autocorrelation of the batch means: {}):</p>\n<table>\n<tr><th></th><th>p50</th><th>p99</th><th>mean</th></tr>\n<tr><th>window</th>{}{}{}</tr>\n</table>",
        b.batches,
        b.batch_seconds,
        b.lag1_autocorrelation
            .map_or("-".to_string(), |r| format!("{r:.2}")),
        cell(b.p50_ms),
        cell(b.p99_ms),
        cell(b.mean_ms)
    );
    out
}

/// The report of a sweep: its charts, then the whole table with the rows
/// flagged in `front` (one flag per row, as from [`super::front_flags`])
/// highlighted.
pub fn sweep_report_html(table: &SweepTable, charts: &[Chart], front: &[bool]) -> String {
    let mut out = String::new();
    head(&mut out, "knsim sweep");
    out.push_str("<h1>Sweep</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"sub\">{} configuration(s), {} column(s).</p>",
        table.rows.len(),
        table.headers.len()
    );
    figures(&mut out, charts);
    out.push_str("<h2>All configurations</h2>\n<div class=\"wide\">\n<table>\n<tr>");
    for h in &table.headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for (i, row) in table.rows.iter().enumerate() {
        let on = front.get(i).copied().unwrap_or(false);
        out.push_str(if on { "<tr class=\"front\">" } else { "<tr>" });
        for c in row {
            let class = if c.parse::<f64>().is_ok() {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</div>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_names() {
        let s = Summary {
            scenario: "<b>&\"x\"".into(),
            ..Default::default()
        };
        let html = report_html(&s, &[]);
        assert!(html.contains("&lt;b&gt;&amp;&quot;x&quot;"));
        assert!(!html.contains("<b>&"));
    }

    #[test]
    fn eventing_section_lists_each_trigger_and_service() {
        use crate::model::{EventingSummary, ServiceEventLoad, TriggerSummary};
        let s = Summary {
            eventing: Some(EventingSummary {
                events_sent: 40,
                triggers: vec![TriggerSummary {
                    name: "to-<billing>".into(),
                    subscriber: "billing".into(),
                    matched: 40,
                    delivered_first_try: 30,
                    delivered_after_retries: vec![4, 2],
                    dead_lettered: 4,
                    attempts_of_finished: 58,
                    attempts: 58,
                    ..Default::default()
                }],
                services: vec![ServiceEventLoad {
                    name: "billing".into(),
                    requests: 58,
                    event_first_attempts: 40,
                    event_retries: 18,
                    retry_share: 18.0 / 58.0,
                }],
            }),
            ..Default::default()
        };
        let html = report_html(&s, &[]);
        assert!(html.contains("<th>to-&lt;billing&gt;</th><td>billing</td><td class=\"n\">40</td><td class=\"n\">30</td><td class=\"n\">6</td><td class=\"n\">4</td>"), "{html}");
        assert!(html.contains("<td class=\"n\">1.450</td>"), "{html}");
        assert!(html.contains("<td class=\"n\">31.0%</td>"), "{html}");
        let plain = report_html(&Summary::default(), &[]);
        assert!(!plain.contains("Eventing"));
    }

    #[test]
    fn xml_declaration_is_dropped_when_inlining() {
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
