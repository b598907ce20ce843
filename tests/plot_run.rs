//! Charts and report of single runs: every SVG parses as XML and holds the
//! series of the run it was drawn from; the report embeds every chart and
//! fetches nothing.

use knsim::model::{simulate, TimeseriesRow};
use knsim::plot::{
    report_html, run_charts, write_run_plots, Chart, PlotError, RunData, ACTIVATOR_SHADE_HEX,
    MAX_POINTS, PANIC_SHADE_HEX, READY_HEX,
};
use knsim::scenario::load_scenario;
use std::path::Path;

fn run(scenario: &str) -> RunData {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(scenario);
    let sc = load_scenario(&path, &[]).expect("scenario loads");
    let mut rows: Vec<TimeseriesRow> = Vec::new();
    let summary = simulate(&sc, sc.seed, &mut rows);
    RunData { summary, rows }
}

fn chart<'a>(charts: &'a [Chart], file: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.file_name == file)
        .unwrap_or_else(|| panic!("no chart {file}"))
}

fn texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn points(n: &roxmltree::Node) -> Vec<(f64, f64)> {
    n.attribute("points")
        .unwrap_or("")
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

/// Rectangles of a colour taller than a legend swatch: the shaded periods.
fn shading(doc: &roxmltree::Document, hex: &str) -> Vec<(f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(hex))
        .filter(|n| n.attribute("height").and_then(|h| h.parse::<f64>().ok()) > Some(30.0))
        .map(|n| {
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let w: f64 = n.attribute("width").unwrap().parse().unwrap();
            (x, x + w)
        })
        .collect()
}

/// Number of maximal runs of `true`.
fn runs(flags: impl IntoIterator<Item = bool>) -> usize {
    let mut n = 0;
    let mut prev = false;
    for f in flags {
        if f && !prev {
            n += 1;
        }
        prev = f;
    }
    n
}

fn rows_of<'a>(data: &'a RunData, rev: &str) -> Vec<&'a TimeseriesRow> {
    data.rows.iter().filter(|r| r.revision == rev).collect()
}

#[test]
fn every_chart_is_well_formed_svg_with_labelled_axes() {
    let data = run("greeter-tutorial.toml");
    let charts = run_charts(&data).expect("charts");
    let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "requests.svg",
            "pods.svg",
            "latency.svg",
            "latency-cdf.svg",
            "traffic.svg"
        ]
    );
    for c in &charts {
        let doc = roxmltree::Document::parse(&c.svg)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", c.file_name));
        assert_eq!(
            doc.root_element().tag_name().name(),
            "svg",
            "{}",
            c.file_name
        );
        let t = texts(&doc);
        // Axis titles carry units.
        let has = |s: &str| t.iter().any(|x| x.contains(s));
        match c.file_name.as_str() {
            "latency-cdf.svg" => {
                assert!(has("latency (ms, log scale)") && has("percentile"))
            }
            "latency.svg" => assert!(has("time (s)") && has("latency (ms, log scale)")),
            "pods.svg" => assert!(has("time (s)") && has("pods")),
            "requests.svg" => assert!(has("time (s)") && has("requests per second")),
            "traffic.svg" => assert!(has("time (s)") && has("share of requests (%)")),
            other => panic!("unexpected chart {other}"),
        }
    }
}

#[test]
fn pods_chart_holds_each_revisions_ready_series_and_shaded_periods() {
    // burst-panic goes into panic mode and takes the activator in and out of
    // the path, so both kinds of shading have several periods.
    for scenario in ["burst-panic.toml", "greeter-tutorial.toml"] {
        let data = run(scenario);
        let charts = run_charts(&data).unwrap();
        let svg = &chart(&charts, "pods.svg").svg;
        let doc = roxmltree::Document::parse(svg).unwrap();
        let t = texts(&doc);
        let ready_lines: Vec<Vec<(f64, f64)>> = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("polyline")
                    && n.attribute("stroke") == Some(READY_HEX)
                    && n.attribute("stroke-width") == Some("3")
            })
            .map(|n| points(&n))
            .filter(|p| p.len() > 2) // legend swatches have two points
            .collect();
        assert_eq!(
            ready_lines.len(),
            data.summary.revisions.len(),
            "{scenario}"
        );
        let mut panic_expected = 0;
        let mut activator_expected = 0;
        for (rev, line) in data.summary.revisions.iter().zip(&ready_lines) {
            assert!(
                t.contains(&format!("Pods: {}", rev.name)),
                "{scenario}: {t:?}"
            );
            // A revision created mid-run is drawn with no pods before it
            // exists, so every panel has a point for every second of the run.
            let own = rows_of(&data, &rev.name);
            let seconds: std::collections::BTreeSet<u64> =
                data.rows.iter().map(|r| r.time_s).collect();
            let empty: Vec<TimeseriesRow> = seconds
                .iter()
                .filter(|t| !own.iter().any(|r| r.time_s == **t))
                .map(|&t| TimeseriesRow {
                    time_s: t,
                    revision: rev.name.clone(),
                    ..Default::default()
                })
                .collect();
            let mut rows: Vec<&TimeseriesRow> = own.iter().copied().chain(empty.iter()).collect();
            rows.sort_by_key(|r| r.time_s);
            assert_eq!(line.len(), seconds.len(), "one point per second");
            // The line's heights order the same way as the ready counts.
            for (i, a) in rows.iter().enumerate() {
                for (j, b) in rows.iter().enumerate().step_by(7) {
                    let (ya, yb) = (line[i].1, line[j].1);
                    match a.ready_pods.cmp(&b.ready_pods) {
                        std::cmp::Ordering::Less => assert!(ya > yb),
                        std::cmp::Ordering::Equal => assert_eq!(ya, yb),
                        std::cmp::Ordering::Greater => assert!(ya < yb),
                    }
                }
            }
            let panic_s: u64 = rows.iter().map(|r| r.panic as u64).sum();
            assert_eq!(panic_s, rev.panic_seconds);
            assert!(
                t.contains(&format!("panic mode ({panic_s} s)")),
                "{scenario}: {t:?}"
            );
            panic_expected += runs(rows.iter().map(|r| r.panic != 0));
            activator_expected += runs(rows.iter().map(|r| r.activator_in_path != 0));
        }
        assert_eq!(shading(&doc, PANIC_SHADE_HEX).len(), panic_expected);
        assert_eq!(shading(&doc, ACTIVATOR_SHADE_HEX).len(), activator_expected);
        if scenario == "burst-panic.toml" {
            assert!(panic_expected >= 1 && activator_expected >= 2);
        }
    }
}

#[test]
fn latency_traffic_and_request_charts_name_every_revision() {
    let data = run("canary-90-10.toml");
    assert!(data.summary.revisions.len() >= 2);
    let charts = run_charts(&data).unwrap();
    let parse = |f: &str| {
        let svg = chart(&charts, f).svg.clone();
        roxmltree::Document::parse(&svg).unwrap();
        svg
    };
    let (lat, traffic, req) = (
        parse("latency.svg"),
        parse("traffic.svg"),
        parse("requests.svg"),
    );
    for rev in &data.summary.revisions {
        assert!(lat.contains(&format!("p99: {}", rev.name)));
        assert!(lat.contains(&format!("p50: {}", rev.name)));
        assert!(traffic.contains(&format!(
            "{} ({:.1}%)",
            rev.name,
            100.0 * rev.observed_share
        )));
        assert!(req.contains(&format!("in flight: {}", rev.name)));
        assert!(req.contains(&format!("arrived: {}", rev.name)));
    }
    // One band per revision, each a closed polygon of the shares.
    let doc = roxmltree::Document::parse(&traffic).unwrap();
    let polys = doc
        .descendants()
        .filter(|n| n.has_tag_name("polygon"))
        .count();
    assert!(polys >= data.summary.revisions.len());
}

#[test]
fn cdf_chart_draws_every_quantile_of_the_summary() {
    let data = run("greeter-tutorial.toml");
    let charts = run_charts(&data).unwrap();
    let doc = roxmltree::Document::parse(&chart(&charts, "latency-cdf.svg").svg).unwrap();
    let lines: Vec<usize> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| points(&n).len())
        .collect();
    let dist = &data.summary.latency_distribution;
    let positive = dist.iter().filter(|q| q.latency_ms > 0.0).count();
    let tail = dist
        .iter()
        .filter(|q| q.latency_ms > 0.0 && q.quantile < 1.0)
        .count();
    assert!(lines.contains(&positive), "{lines:?} vs {positive}");
    assert!(lines.contains(&tail), "{lines:?} vs {tail}");
    let t = texts(&doc);
    assert!(t.iter().any(|s| s.starts_with("p99 ")), "{t:?}");
}

#[test]
fn report_embeds_every_chart_and_fetches_nothing() {
    let data = run("greeter-tutorial.toml");
    let charts = run_charts(&data).unwrap();
    let html = report_html(&data.summary, &charts);
    for c in &charts {
        assert!(html.contains(c.svg.trim()), "{} not embedded", c.file_name);
        assert!(html.contains(&c.title));
    }
    assert_eq!(html.matches("<svg ").count(), charts.len());
    for rev in &data.summary.revisions {
        assert!(html.contains(&rev.name));
    }
    assert!(html.contains(&data.summary.requests.arrived.to_string()));
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script", "<link", "<img", "<iframe", "url(", "@import", "src=",
    ] {
        assert!(!lower.contains(bad), "report contains {bad}");
    }
    // The only URL is the SVG namespace name, which is never fetched.
    let urls = lower.matches("http").count();
    assert_eq!(urls, lower.matches("http://www.w3.org/2000/svg").count());
}

#[test]
fn long_runs_are_drawn_in_buckets() {
    let seconds = 3 * MAX_POINTS as u64 + 7;
    let rows: Vec<TimeseriesRow> = (1..=seconds)
        .map(|s| TimeseriesRow {
            time_s: s,
            revision: "r".into(),
            arrivals: 10,
            completed: 10,
            p50_ms: 5.0,
            p99_ms: 9.0,
            desired_pods: 1,
            ready_pods: if s % 1000 < 500 { 1 } else { 3 },
            panic: u8::from(s % 1000 == 10),
            ..Default::default()
        })
        .collect();
    let mut summary = knsim::model::Summary {
        simulated_seconds: seconds as f64,
        ..Default::default()
    };
    summary.revisions.push(knsim::model::RevisionSummary {
        name: "r".into(),
        observed_share: 1.0,
        ..Default::default()
    });
    let data = RunData { summary, rows };
    let charts = run_charts(&data).unwrap();
    for c in &charts {
        let doc = roxmltree::Document::parse(&c.svg).unwrap();
        let longest = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| points(&n).len())
            .max()
            .unwrap_or(0);
        assert!(longest <= MAX_POINTS, "{}: {longest} points", c.file_name);
    }
    // Shading keeps exact seconds: every one-second panic is still there.
    let doc = roxmltree::Document::parse(&chart(&charts, "pods.svg").svg).unwrap();
    let panics = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(PANIC_SHADE_HEX))
        .count();
    let expected = (1..=seconds).filter(|s| s % 1000 == 10).count();
    assert_eq!(panics, expected + 1 /* legend */);
    assert!(chart(&charts, "pods.svg")
        .description
        .contains("-second steps"));
}

#[test]
fn write_run_plots_reports_missing_inputs_as_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_run_plots(dir.path()).unwrap_err();
    assert!(
        matches!(err, PlotError::Io { .. }) && err.is_bad_input(),
        "{err}"
    );
    std::fs::write(dir.path().join("summary.json"), "{not json").unwrap();
    let err = write_run_plots(dir.path()).unwrap_err();
    assert!(
        matches!(err, PlotError::Json { .. }) && err.is_bad_input(),
        "{err}"
    );
}

fn knsim() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("knsim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

const RUN_FILES: [&str; 6] = [
    "requests.svg",
    "pods.svg",
    "latency.svg",
    "latency-cdf.svg",
    "traffic.svg",
    "report.html",
];

#[test]
fn run_with_plot_and_plot_again_give_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("burst");
    knsim()
        .args(["run", "scenarios/burst-panic.toml", "--plot", "-q", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let first: Vec<Vec<u8>> = RUN_FILES
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    // Re-plotting the written result reproduces every byte: nothing drawn
    // depends on wall-clock time.
    knsim()
        .arg("plot")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("report.html"));
    for (f, bytes) in RUN_FILES.iter().zip(&first) {
        assert_eq!(&std::fs::read(out.join(f)).unwrap(), bytes, "{f} changed");
    }
}

#[test]
fn plot_exits_2_on_a_directory_without_results_or_with_a_broken_timeseries() {
    let dir = tempfile::tempdir().unwrap();
    knsim().arg("plot").arg(dir.path()).assert().code(2);
    knsim()
        .arg("plot")
        .arg(dir.path().join("missing"))
        .assert()
        .code(2);
    let out = dir.path().join("run");
    knsim()
        .args(["run", "scenarios/greeter-tutorial.toml", "-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    std::fs::write(
        out.join("timeseries.csv"),
        "time_s,revision\nnot-a-number,x\n",
    )
    .unwrap();
    knsim()
        .arg("plot")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("timeseries.csv"));
}
