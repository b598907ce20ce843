//! `knsim run` writes the same bytes every time: the README's first command
//! must reproduce the committed example results, so a fresh checkout stays
//! clean after it.

use assert_cmd::Command;
use std::path::Path;

fn run_into(dir: &Path) {
    Command::cargo_bin("knsim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/greeter-tutorial.toml", "--quiet", "--out"])
        .arg(dir)
        .assert()
        .success();
}

#[test]
fn two_runs_write_identical_bytes_matching_the_committed_example() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_into(a.path());
    run_into(b.path());
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/greeter-tutorial");
    for file in ["summary.json", "timeseries.csv"] {
        let x = std::fs::read(a.path().join(file)).unwrap();
        let y = std::fs::read(b.path().join(file)).unwrap();
        assert!(x == y, "{file} differs between two runs");
        let c = std::fs::read(committed.join(file)).unwrap();
        assert!(
            x == c,
            "{file} differs from results/greeter-tutorial/{file}; regenerate it with \
             `cargo run --release -- run scenarios/greeter-tutorial.toml`"
        );
    }
    // Nothing but the two outputs: a wall-clock file would dirty the tree.
    let mut names: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["summary.json", "timeseries.csv"]);
}
