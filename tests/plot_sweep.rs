//! Sweep charts from a summary.csv written here: the Pareto chart marks
//! exactly the front, the heatmap has one cell per key combination, and
//! every column name is configurable.

use knsim::plot::{
    heatmap_svg, pareto_front, pareto_svg, sweep_charts, write_sweep_plots, HeatmapSpec,
    ParetoSpec, PlotError, SweepTable,
};

const WINDOWS: [&str; 3] = ["30s", "60s", "120s"];
const CC: [u32; 2] = [0, 10];

/// A 3 × 2 grid with made-up but consistent numbers: a longer window costs
/// more and lowers latency; containerConcurrency 10 is cheaper and slower.
fn grid() -> Vec<(String, u32, f64, f64)> {
    let mut out = Vec::new();
    for (i, w) in WINDOWS.iter().enumerate() {
        for &cc in &CC {
            let cost = 1000.0 + 400.0 * i as f64 - if cc == 10 { 150.0 } else { 0.0 };
            let p99 = 900.0 - 200.0 * i as f64 + if cc == 10 { 60.0 } else { 0.0 };
            out.push((w.to_string(), cc, cost, p99));
        }
    }
    // One clearly dominated configuration: dearer and slower than 30s/0.
    out[1].3 = 2000.0;
    out[1].2 = 1200.0;
    out
}

fn csv_text(cost_col: &str, lat_col: &str, with_pareto: Option<&[bool]>) -> String {
    let base_cost = cost_col.strip_suffix("_mean").unwrap_or(cost_col);
    let base_lat = lat_col.strip_suffix("_mean").unwrap_or(lat_col);
    let mut s = format!(
        "autoscaler.stable-window,revision.0.containerConcurrency,runs,{cost_col},{base_cost}_ci95_low,{base_cost}_ci95_high,{lat_col},{base_lat}_ci95_low,{base_lat}_ci95_high"
    );
    if with_pareto.is_some() {
        s.push_str(",pareto");
    }
    s.push('\n');
    for (i, (w, cc, cost, p99)) in grid().into_iter().enumerate() {
        s.push_str(&format!(
            "{w},{cc},5,{cost},{},{},{p99},{},{}",
            cost - 20.0,
            cost + 20.0,
            p99 - 30.0,
            p99 + 30.0
        ));
        if let Some(p) = with_pareto {
            s.push_str(if p[i] { ",true" } else { ",false" });
        }
        s.push('\n');
    }
    s
}

fn table(text: &str) -> SweepTable {
    SweepTable::from_reader(text.as_bytes()).expect("csv parses")
}

fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("svg is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn label(w: &str, cc: u32) -> String {
    format!("stable-window={w}, containerConcurrency={cc}")
}

#[test]
fn reader_finds_varied_keys_and_typed_columns() {
    let t = table(&csv_text("pod_seconds_mean", "latency_p99_ms_mean", None));
    // `runs` is constant, metrics end in a metric suffix: neither is a key.
    assert_eq!(
        t.varied_keys(&[]),
        [
            "autoscaler.stable-window",
            "revision.0.containerConcurrency"
        ]
    );
    assert_eq!(t.numbers("pod_seconds_mean").unwrap().len(), 6);
    assert!(matches!(
        t.numbers("autoscaler.stable-window"),
        Err(PlotError::NotANumber { row: 1, .. })
    ));
    assert!(matches!(
        t.numbers("nope"),
        Err(PlotError::MissingColumn { .. })
    ));
}

#[test]
fn pareto_chart_labels_exactly_the_front_from_the_pareto_column() {
    // A front chosen by the table, not by the chart: the chart must follow it.
    let chosen = [true, false, false, true, true, false];
    let t = table(&csv_text(
        "pod_seconds_mean",
        "latency_p99_ms_mean",
        Some(&chosen),
    ));
    let svg = pareto_svg(&t, &ParetoSpec::default()).unwrap();
    let tx = texts(&svg);
    for (i, (w, cc, _, _)) in grid().into_iter().enumerate() {
        assert_eq!(tx.contains(&label(&w, cc)), chosen[i], "{w} {cc}: {tx:?}");
    }
    assert!(tx.contains(&"Pareto front (3)".to_string()), "{tx:?}");
    assert!(tx.contains(&"dominated (3)".to_string()));
    assert!(tx.contains(&"95% confidence interval".to_string()));
    assert!(tx.contains(&"cost (pod-seconds)".to_string()));
    assert!(tx.contains(&"p99 latency (ms)".to_string()));
}

#[test]
fn pareto_chart_computes_the_front_when_the_table_has_none_and_takes_any_names() {
    let t = table(&csv_text("cost_total", "latency_p90_ms", None));
    let mut spec = ParetoSpec::new("cost_total", "latency_p90_ms");
    spec.cost_ci = Some(("cost_total_ci95_low".into(), "cost_total_ci95_high".into()));
    let svg = pareto_svg(&t, &spec).unwrap();
    let tx = texts(&svg);
    let pts: Vec<(f64, f64)> = grid().iter().map(|g| (g.2, g.3)).collect();
    let front = pareto_front(&pts);
    // The dominated 30s/10 point is off the front; the rest trade off.
    assert_eq!(front, [true, false, true, true, true, true]);
    for (i, (w, cc, _, _)) in grid().into_iter().enumerate() {
        assert_eq!(tx.contains(&label(&w, cc)), front[i], "{w} {cc}");
    }
    assert!(tx.contains(&"cost_total".to_string()));
    // Wrong names are reported, not drawn around.
    let err = pareto_svg(&t, &ParetoSpec::default()).unwrap_err();
    assert!(
        matches!(&err, PlotError::MissingColumn { column, .. } if column == "pod_seconds_mean"),
        "{err}"
    );
}

#[test]
fn heatmap_has_one_labelled_cell_per_combination() {
    let t = table(&csv_text("pod_seconds_mean", "latency_p99_ms_mean", None));
    let spec = HeatmapSpec {
        x_key: "autoscaler.stable-window".into(),
        y_key: "revision.0.containerConcurrency".into(),
        value: "latency_p99_ms_mean".into(),
        value_label: "p99 (ms)".into(),
    };
    let svg = heatmap_svg(&t, &spec).unwrap();
    let tx = texts(&svg);
    for (_, _, _, p99) in grid() {
        assert!(tx.contains(&format!("{p99:.0}")), "{p99}: {tx:?}");
    }
    for w in WINDOWS {
        assert!(tx.contains(&w.to_string()), "axis label {w}");
    }
    // Cells are the coloured rects larger than a slice of the colour scale
    // (a thin strip in the legend column); the background is white.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let size = |n: &roxmltree::Node, a: &str| -> f64 {
        n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    let cells = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") != Some("#FFFFFF"))
        .filter(|n| size(n, "width") > 50.0 && size(n, "height") > 20.0)
        .count();
    assert_eq!(cells, WINDOWS.len() * CC.len());
}

#[test]
fn sweep_charts_add_a_heatmap_only_when_two_keys_vary() {
    let two = table(&csv_text("pod_seconds_mean", "latency_p99_ms_mean", None));
    let names = |t: &SweepTable| -> Vec<String> {
        sweep_charts(t, &ParetoSpec::default(), None)
            .unwrap()
            .into_iter()
            .map(|c| c.file_name)
            .collect()
    };
    assert_eq!(names(&two), ["pareto.svg", "heatmap.svg"]);
    let one_text: String = csv_text("pod_seconds_mean", "latency_p99_ms_mean", None)
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",0,"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_eq!(names(&table(&one_text)), ["pareto.svg"]);
}

#[test]
fn knsim_plot_draws_a_sweep_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("summary.csv"),
        csv_text("pod_seconds_mean", "latency_p99_ms_mean", None),
    )
    .unwrap();
    let written = write_sweep_plots(dir.path(), &ParetoSpec::default(), None).unwrap();
    assert_eq!(written.len(), 3);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg ").count(), 2);
    // The computed front (all but the dominated 30s/10 row) is highlighted.
    assert_eq!(html.matches("<tr class=\"front\">").count(), 5);
    assert!(html.contains("autoscaler.stable-window"));
    // The CLI finds the same files and exits 0.
    assert_cmd::Command::cargo_bin("knsim")
        .unwrap()
        .args(["plot", "-q"])
        .arg(dir.path())
        .assert()
        .success();
}

/// A real sweep's summary.csv plots with the default column names.
#[test]
fn plots_a_real_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slo-example.toml");
    assert_cmd::Command::cargo_bin("knsim")
        .unwrap()
        .args([
            "sweep",
            scenario.to_str().unwrap(),
            "-q",
            "--reps",
            "2",
            "--out",
            out.to_str().unwrap(),
        ])
        .args([
            "--vary",
            "autoscaler.stable-window=30s,60s",
            "--vary",
            "autoscaler.target-burst-capacity=0,211",
        ])
        .assert()
        .success();
    assert_cmd::Command::cargo_bin("knsim")
        .unwrap()
        .args(["plot", out.to_str().unwrap(), "-q"])
        .assert()
        .success();
    for f in ["pareto.svg", "heatmap.svg", "report.html"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            text.contains("p99 latency (ms)"),
            "{f} lacks the latency axis title"
        );
    }
}

/// A sweep with the default single replication has empty interval columns;
/// it still plots, without interval bars.
#[test]
fn plots_a_single_replication_sweep_without_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slo-example.toml");
    assert_cmd::Command::cargo_bin("knsim")
        .unwrap()
        .args(["sweep", scenario.to_str().unwrap(), "-q", "--out"])
        .arg(&out)
        .args(["--vary", "autoscaler.stable-window=30s,60s"])
        .assert()
        .success();
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.contains(",,"),
        "expected empty CI cells:\n{summary}"
    );
    assert_cmd::Command::cargo_bin("knsim")
        .unwrap()
        .args(["plot", "-q"])
        .arg(&out)
        .assert()
        .success();
    let svg = std::fs::read_to_string(out.join("pareto.svg")).unwrap();
    assert!(svg.contains("Pareto front"));
    assert!(!svg.contains("confidence interval"));
}

/// The rotated y-axis title must lie between the caption and the bottom of
/// the chart, even for a long key on a two-row grid (it used to run into the
/// caption and off the canvas).
#[test]
fn heatmap_y_axis_title_is_not_clipped() {
    for y_key in [
        "autoscaler.target-burst-capacity",
        "revision.greeter-v1.containerConcurrency",
    ] {
        let text = csv_text("pod_seconds_mean", "latency_p99_ms_mean", None)
            .replace("revision.0.containerConcurrency", y_key);
        let spec = HeatmapSpec {
            x_key: "autoscaler.stable-window".into(),
            y_key: y_key.into(),
            value: "latency_p99_ms_mean".into(),
            value_label: "p99 (ms)".into(),
        };
        let svg = heatmap_svg(&table(&text), &spec).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let num =
            |n: &roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
        let height = num(&doc.root_element(), "height");
        let caption = doc
            .descendants()
            .find(|n| n.has_tag_name("text") && n.text().is_some_and(|t| t.contains("by key")))
            .unwrap();
        let caption_bottom = num(&caption, "y") + num(&caption, "font-size");
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("text") && n.text().is_some_and(|t| t.trim() == y_key))
            .unwrap_or_else(|| panic!("no y-axis title {y_key}"));
        assert!(title
            .attribute("transform")
            .unwrap()
            .starts_with("rotate(270"));
        // Generous width estimate for sans-serif text: 0.6 em per character.
        let len = y_key.len() as f64 * 0.6 * num(&title, "font-size");
        let (top, bottom) = (num(&title, "y") - len / 2.0, num(&title, "y") + len / 2.0);
        assert!(
            top >= caption_bottom && bottom <= height,
            "{y_key}: title spans {top:.0}..{bottom:.0}, caption ends at {caption_bottom:.0}, chart height {height}"
        );
    }
}
