//! What the `knsim` binary prints: summaries of degenerate runs, help text,
//! messages for values clap would misread, and progress output.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn knsim() -> Command {
    Command::cargo_bin("knsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

/// Requests that take ten minutes never finish in a 30 s run.
const NOTHING_COMPLETES: &str = r#"
name = "stuck"
duration = "30s"
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "10m" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#;

#[test]
fn zero_completed_requests_say_so_instead_of_zero_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "stuck.toml", NOTHING_COMPLETES);
    let a = knsim()
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success();
    let out = stdout(&a);
    assert!(out.contains(" 0 ok,"), "{out}");
    let latency = out.lines().find(|l| l.starts_with("latency")).unwrap();
    assert!(!latency.contains("0.0 ms"), "{latency}");
    assert!(latency.contains("no request completed"), "{latency}");
}

#[test]
fn negative_values_get_a_clear_message() {
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/slo-example.toml");
    let sc = sc.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["run", sc, "--seed", "-1"], "-1 is negative; a seed"),
        (
            &["sweep", sc, "--out", "x", "--reps", "-2"],
            "-2 is negative; a count",
        ),
        (
            &["sweep", sc, "--out", "x", "--jobs", "-1"],
            "-1 is negative",
        ),
        (&["check", sc, "--reps", "-3"], "-3 is negative"),
        (&["check", sc, "--tolerance", "-5%"], "must be 0 or more"),
        (
            &["validate-model", "--replications", "-3"],
            "-3 is negative",
        ),
        (&["gen-traces", "x", "--seed", "-4"], "-4 is negative"),
        (
            &["run", sc, "-5"],
            "-5 is not an option; it looks like a negative number",
        ),
    ];
    for (args, want) in cases {
        let a = knsim().args(*args).assert().code(2);
        let err = stderr(&a);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

/// The lines under "Examples:" in a help text.
fn examples(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .skip(1)
        .take_while(|l| l.starts_with("  knsim "))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Every subcommand's help opens with a one-line purpose and shows two or
/// three examples, and every example runs (writing under a temporary folder
/// instead of /tmp).
#[test]
fn every_subcommand_has_examples_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("{}/", dir.path().display());
    let subcommands = [
        "run",
        "validate",
        "sweep",
        "merge",
        "check",
        "gen-traces",
        "plot",
        "validate-model",
        "fit",
        "compare",
    ];
    for sub in subcommands {
        let a = knsim().args([sub, "--help"]).assert().success();
        let help = stdout(&a);
        let purpose = help.lines().next().unwrap();
        assert!(
            purpose.len() > 20 && !purpose.starts_with("Usage"),
            "{sub}: {purpose:?}"
        );
        let ex = examples(&help);
        assert!((2..=4).contains(&ex.len()), "{sub}: {ex:?}");
        for line in ex {
            if line.starts_with("knsim validate-model --quick --out") {
                // The whole CI profile takes a minute or more in a debug
                // build; .ci/run runs it and requires exit 0.
                continue;
            }
            let line = line.replace("/tmp/", &root);
            let args: Vec<&str> = line.split_whitespace().skip(1).collect();
            assert_eq!(args[0], sub, "{line}");
            let started = std::time::Instant::now();
            let out = knsim()
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(&args)
                .output()
                .unwrap();
            // Slow examples make the suite slow; report their time.
            eprintln!("{:.1} s  {line}", started.elapsed().as_secs_f64());
            assert!(
                out.status.success(),
                "{line}: exit {:?}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Runs `knsim ARGS` under `script`, which gives it a pseudo-terminal, and
/// returns everything it wrote there.
fn on_terminal(args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("knsim");
    let out = std::process::Command::new("script")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .output()
        .expect("script(1) from util-linux is installed");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Long commands show a progress bar on a terminal, and nothing extra on
/// stderr when it is not a terminal or with --quiet.
#[test]
fn progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let cases = [
        (
            format!("run scenarios/burst-panic.toml --out {d}/run"),
            "simulated s",
        ),
        (
            format!(
                "sweep scenarios/slo-example.toml --vary autoscaler.stable-window=30s..100s:1s --max-runs 2 --out {d}/sweep"
            ),
            "configurations checked",
        ),
        (
            format!("validate-model --quick --only mginf --out {d}/v.md"),
            "replications",
        ),
    ];
    for (args, bar) in &cases {
        let tty = on_terminal(args);
        assert!(tty.contains(bar), "{args}: no {bar:?} in\n{tty}");
        let quiet = on_terminal(&format!("{args} --quiet"));
        assert!(!quiet.contains(bar), "{args} --quiet:\n{quiet}");
        let piped = knsim()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args.split_whitespace())
            .output()
            .unwrap();
        assert!(piped.status.success(), "{args}");
        assert!(
            piped.stderr.is_empty(),
            "{args}: {}",
            String::from_utf8_lossy(&piped.stderr)
        );
    }
}

/// Ctrl-C on a sweep: the header was printed up front, the message says what
/// was kept and how to resume, and the rerun picks up the finished runs.
#[test]
fn interrupted_sweep_says_what_was_kept_and_resumes() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let args = [
        "sweep",
        "scenarios/slo-example.toml",
        "--vary",
        "autoscaler.stable-window=30s..300s:1s",
        "--jobs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("knsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runs = out.join("runs.csv");
    let started = std::time::Instant::now();
    while fs::read_to_string(&runs).map_or(0, |t| t.lines().count()) < 3 {
        assert!(started.elapsed().as_secs() < 60, "no runs written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let (mut so, mut se) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut so)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut se)
        .unwrap();
    assert_eq!(code, Some(130), "stdout {so}\nstderr {se}");
    assert!(so.contains("271 configuration(s)"), "{so}");
    assert!(so.contains("rows go to"), "{so}");
    assert!(se.contains("interrupted:"), "{se}");
    assert!(se.contains("rerun the same command to resume"), "{se}");
    let kept = fs::read_to_string(&runs).unwrap().lines().count() - 1;
    assert!(kept >= 2, "{kept}");
    let a = knsim()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["--max-runs", "1"])
        .assert()
        .success();
    let so = stdout(&a);
    assert!(
        so.contains(&format!("{kept} already done, 1 run now"))
            || so.contains(&format!("{} already done, 1 run now", kept - 1)),
        "{so}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The examples of `knsim --help` run too. Some write under `results/`, so
/// they run in a scratch copy of `scenarios/` and `results/`.
#[test]
fn top_level_help_examples_run() {
    let scratch = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["scenarios", "results"] {
        copy_dir(&repo.join(d), &scratch.path().join(d));
    }
    let root = format!("{}/", scratch.path().display());
    let a = knsim().arg("--help").assert().success();
    let ex = examples(&stdout(&a));
    assert!(ex.len() >= 5, "{ex:?}");
    for line in ex {
        let line = line.replace("/tmp/", &root);
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = knsim()
            .current_dir(scratch.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: exit {:?}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `knsim run … --plot | head` closes standard output before knsim prints
/// its summary. The printing stops there; the run still writes its plots
/// and exits 0, with no panic message.
#[test]
fn a_closed_standard_output_ends_the_printing_not_the_run() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "stuck.toml", NOTHING_COMPLETES);
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("knsim"))
        .arg("run")
        .arg(&sc)
        .arg("--plot")
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end goes away before anything is printed.
    drop(child.stdout.take());
    let res = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(out.join("summary.json").is_file());
    assert!(
        out.join("report.html").is_file(),
        "the plots come after the printing"
    );
}
