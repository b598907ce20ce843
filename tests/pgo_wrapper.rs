//! `scripts/pgo-rustc`, the rustc wrapper of the workspace's crates: which
//! compilations get the profile in `pgo/`, run against a stand-in rustc
//! that prints the arguments it is given.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in rustc whose `rustc -V` prints `version`, and that prints
/// its arguments, one per line.
fn fake_rustc(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join("rustc");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = -V ]; then echo '{version}'; exit 0; fi\n\
             for a in \"$@\"; do echo \"$a\"; done\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The arguments the stand-in rustc received through the wrapper.
fn through_wrapper(version: &str, args: &[&str], generate: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let rustc = fake_rustc(dir.path(), version);
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("scripts/pgo-rustc"))
        .arg(&rustc)
        .args(args);
    cmd.env_remove("KNSIM_PGO_GENERATE");
    if let Some(g) = generate {
        cmd.env("KNSIM_PGO_GENERATE", g);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `rustc -V` of the compiler the committed profile was made with.
fn profile_rustc() -> String {
    std::fs::read_to_string(root().join("pgo/knsim.rustc"))
        .expect("pgo/knsim.rustc is committed")
        .trim()
        .to_string()
}

const KNSIM_OPT: [&str; 6] = [
    "--crate-name",
    "knsim",
    "src/lib.rs",
    "-C",
    "opt-level=3",
    "-C",
];

#[test]
fn the_optimised_library_gets_the_profile() {
    let got = through_wrapper(&profile_rustc(), &KNSIM_OPT, None);
    assert_eq!(got[..KNSIM_OPT.len()], KNSIM_OPT.map(String::from));
    let profile = root().join("pgo/knsim.profdata");
    assert!(
        got.contains(&format!("-Cprofile-use={}", profile.display())),
        "{got:?}"
    );
    assert!(got.contains(&"--cfg".to_string()), "{got:?}");
    assert!(got.iter().any(|a| a.starts_with("knsim_pgo=")), "{got:?}");
}

#[test]
fn only_the_rustc_that_made_the_profile_uses_it() {
    let same = through_wrapper(&profile_rustc(), &KNSIM_OPT, None);
    assert!(
        same.iter().any(|a| a.starts_with("-Cprofile-use=")),
        "{same:?}"
    );
    for other in ["rustc 1.96.0 (0123456789 2026-05-28)", "rustc 1.94.1", ""] {
        let got = through_wrapper(other, &KNSIM_OPT, None);
        assert_eq!(got, KNSIM_OPT.map(String::from), "{other}");
    }
}

#[test]
fn other_compilations_pass_through_unchanged() {
    for args in [
        &["--crate-name", "knsim", "src/lib.rs", "-C", "opt-level=0"][..],
        &["--crate-name", "knsim", "src/lib.rs"][..],
        &["--crate-name", "knload", "-C", "opt-level=3"][..],
        &["--crate-name", "simulate", "-C", "opt-level=3"][..],
    ] {
        assert_eq!(
            through_wrapper(&profile_rustc(), args, None),
            args,
            "{args:?}"
        );
    }
    // Cargo asks the wrapped rustc for its version through the wrapper.
    let v = through_wrapper(&profile_rustc(), &["-V"], None);
    assert_eq!(v, [profile_rustc()]);
}

#[test]
fn a_training_build_instruments_every_optimised_crate() {
    for name in ["knsim", "pgo_train"] {
        let args = ["--crate-name", name, "-C", "opt-level=3"];
        let got = through_wrapper(&profile_rustc(), &args, Some("/tmp/raw"));
        assert_eq!(got[..4], args.map(String::from));
        assert_eq!(got[4..], ["-Cprofile-generate=/tmp/raw".to_string()]);
    }
    let debug = ["--crate-name", "knsim", "-C", "opt-level=0"];
    assert_eq!(
        through_wrapper(&profile_rustc(), &debug, Some("/tmp/raw")),
        debug
    );
}

/// Cargo's `-C metadata` hashes the wrapper's absolute path, so it differs
/// between checkouts, and symbol names derive from it. The knsim crate's is
/// pinned wherever the profile is made or used, so that a profile made in
/// one checkout finds its functions in every other; other crates keep
/// theirs, and the file names (`extra-filename`) are never touched.
#[test]
fn the_optimised_library_has_the_same_symbols_in_every_checkout() {
    fn cargo(metadata: &str) -> [&str; 8] {
        [
            "--crate-name",
            "knsim",
            "-C",
            "opt-level=3",
            "-C",
            metadata,
            "-C",
            "extra-filename=-0ea986c3ead7f841",
        ]
    }
    let runs = [
        through_wrapper(&profile_rustc(), &cargo("metadata=0ea986c3ead7f841"), None),
        through_wrapper(&profile_rustc(), &cargo("metadata=8cfeb199045fe54d"), None),
        through_wrapper(
            &profile_rustc(),
            &cargo("metadata=9143b536d777a4c8"),
            Some("/tmp/raw"),
        ),
    ];
    for got in &runs {
        assert!(got.contains(&"metadata=knsim-pgo".to_string()), "{got:?}");
        assert!(!got
            .iter()
            .any(|a| a.starts_with("metadata=") && a != "metadata=knsim-pgo"));
        assert!(got.contains(&"extra-filename=-0ea986c3ead7f841".to_string()));
    }
    assert_eq!(runs[0], runs[1]);
    let other = [
        "--crate-name",
        "knload",
        "-C",
        "opt-level=3",
        "-C",
        "metadata=abc",
    ];
    assert_eq!(through_wrapper(&profile_rustc(), &other, None), other);
    let debug = [
        "--crate-name",
        "knsim",
        "-C",
        "opt-level=0",
        "-C",
        "metadata=abc",
    ];
    assert_eq!(through_wrapper(&profile_rustc(), &debug, None), debug);
}
