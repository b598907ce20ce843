//! `knsim fit` and `knsim compare` from the command line: a fit recovers
//! the distribution of a synthetic sample, compare judges a prediction
//! against measurements drawn from it and from a slower service, and bad
//! input exits 2 naming the file, line and column.

use assert_cmd::Command;
use predicates::str::contains;
use rand::SeedableRng;
use rand_distr::Distribution;
use std::fmt::Write as _;
use std::path::Path;

fn knsim() -> Command {
    let mut c = Command::cargo_bin("knsim").unwrap();
    c.timeout(std::time::Duration::from_secs(120));
    c
}

/// A knload-style per-request CSV of `n` requests, one every 50 ms, with
/// latencies drawn from `d` (seconds).
fn write_csv(path: &Path, d: impl Distribution<f64>, n: usize, seed: u64) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut s = String::from("timestamp_s,latency_s,status,class\n");
    for i in 0..n {
        let _ = writeln!(s, "{:.6},{:.6},200,", i as f64 * 0.05, d.sample(&mut rng));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn fit_recovers_a_gamma_and_writes_a_snippet_knsim_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    // Gamma, shape 4, scale 5 ms: mean 20 ms.
    write_csv(&csv, rand_distr::Gamma::new(4.0, 0.005).unwrap(), 4000, 1);
    let out = dir.path().join("st.toml");
    knsim()
        .args(["fit", csv.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .success()
        .stderr(contains("gamma"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("distribution = \"gamma\""), "{text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("service-time = "))
        .unwrap();
    let shape: f64 = line
        .split("shape = ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((shape - 4.0).abs() < 0.3, "{line}");
    // The snippet is valid in a scenario.
    knsim()
        .args([
            "validate",
            "results/loop-example/scenario.toml",
            "--set",
            &format!("revision.0.service-time={line}"),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success();
}

#[test]
fn compare_agrees_with_its_own_distribution_and_flags_a_slower_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let pred = dir.path().join("pred");
    // Constant arrivals far below capacity: latency is the service time.
    let st = "{ distribution = \"lognormal\", mean = \"20ms\", stddev = \"8ms\" }";
    let sigma2 = (1.0f64 + (8.0f64 / 20.0).powi(2)).ln();
    let mu = (0.020f64).ln() - sigma2 / 2.0;
    let same = dir.path().join("same.csv");
    write_csv(
        &same,
        rand_distr::LogNormal::new(mu, sigma2.sqrt()).unwrap(),
        600,
        2,
    );
    let slow = dir.path().join("slow.csv");
    write_csv(
        &slow,
        rand_distr::LogNormal::new(mu + (1.6f64).ln(), sigma2.sqrt()).unwrap(),
        600,
        3,
    );
    let set = format!("revision.0.service-time={st}");
    knsim()
        .current_dir(root)
        .args([
            "compare",
            pred.to_str().unwrap(),
            same.to_str().unwrap(),
            "--scenario",
            "results/loop-example/scenario.toml",
            "--set",
            &set,
            "--reps",
            "2",
            "--plot",
        ])
        .assert()
        .code(0)
        .stdout(contains("verdict: prediction and measurement agree"));
    assert!(pred.join("seed-11/summary.json").is_file());
    assert!(pred.join("compare/latency-cdf.svg").is_file());
    // The replications already written are read back without --scenario.
    knsim()
        .args(["compare", pred.to_str().unwrap(), slow.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(contains("DIFFERS"));
}

#[test]
fn bad_input_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "timestamp_s,latency_s,status\n0,0.01,200\n1,-3,200\n").unwrap();
    knsim()
        .args(["fit", csv.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("bad.csv:3: column latency_s"));
    let nocol = dir.path().join("nocol.csv");
    std::fs::write(&nocol, "a,b\n1,2\n").unwrap();
    knsim()
        .args(["fit", nocol.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("no column `latency_s`"));
    let few = dir.path().join("few.csv");
    std::fs::write(&few, "latency_s\n0.1\n0.2\n").unwrap();
    knsim()
        .args(["fit", few.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("2 usable sample(s)"));
    knsim()
        .args([
            "compare",
            dir.path().to_str().unwrap(),
            csv.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(contains("no summary.json"));
    let pred = dir.path().join("p");
    std::fs::create_dir_all(&pred).unwrap();
    std::fs::write(pred.join("summary.json"), "{ \"scenario\": 3 }").unwrap();
    knsim()
        .args(["compare", pred.to_str().unwrap(), csv.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("summary.json: line 1 column"));
}

#[test]
fn cold_start_fit_takes_one_sample_per_run() {
    let dir = tempfile::tempdir().unwrap();
    // Twelve runs from zero pods: the first request waits a gamma-ish cold
    // start of about 2 s on top of a 20 ms service time.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
    let cold = rand_distr::Gamma::new(16.0, 0.125).unwrap();
    let mut files = Vec::new();
    for k in 0..12 {
        let p = dir.path().join(format!("run{k}.csv"));
        let mut s = String::from("timestamp_s,latency_s,status,class\n");
        let _ = writeln!(s, "0.000000,{:.6},200,", 0.020 + cold.sample(&mut rng));
        for i in 1..20 {
            let _ = writeln!(s, "{:.6},0.020000,200,", i as f64 * 0.1);
        }
        std::fs::write(&p, s).unwrap();
        files.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["fit".to_string(), "--cold-start".to_string()];
    args.extend(files);
    let a = knsim().args(&args).assert().success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(out.contains("[cluster.pod-startup]"), "{out}");
    assert!(out.contains("image-pull = { distribution = \"constant\", value = \"0s\" }"));
    let line = out.lines().find(|l| l.starts_with("app-init = ")).unwrap();
    // The fitted mean is within 15 % of 2 s, whatever family won.
    let text = format!("d = {}", line.trim_start_matches("app-init = "));
    let t: toml::Table = toml::from_str(&text).unwrap();
    let spec: knsim::workload::DistSpec = t["d"].clone().try_into().unwrap();
    let mean = spec.build("d", Path::new(".")).unwrap().mean();
    assert!((mean - 2.0).abs() < 0.3, "{line}: mean {mean}");
}
