//! `knsim validate-model` end to end on a small subset.

use assert_cmd::Command;

#[test]
fn validate_model_writes_the_table_with_seeds_and_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("validation.md");
    Command::cargo_bin("knsim")
        .unwrap()
        .args(["validate-model", "--quick", "--only", "mginf", "--out"])
        .arg(&out)
        .assert()
        .success();
    let doc = std::fs::read_to_string(&out).unwrap();
    assert!(doc.contains("| M/G/∞ |"), "{doc}");
    assert!(doc.contains("knsim validate-model --quick --only mginf"));
    assert!(doc.contains("knsim run scenarios/validation/mginf.toml --seed"));
    assert!(doc.contains("**1 of 1 checks meet the target**"), "{doc}");
}

#[test]
fn too_few_replications_is_bad_input() {
    Command::cargo_bin("knsim")
        .unwrap()
        .args(["validate-model", "--replications", "1"])
        .assert()
        .code(2);
}
