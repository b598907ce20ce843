//! The `knsim` commands shown in README.md and docs/*.md, run as written.
//!
//! Commands are taken from fenced code blocks (`knsim …`,
//! `./target/release/knsim …`, `cargo run --release -- …`, and a CI step's
//! `run: knsim …`) and from inline code that names a bundled scenario. The
//! README's `--set` examples are run as `knsim validate` on the tutorial
//! scenario they refer to. knload's commands belong to its own tests.
//!
//! Every command runs in a scratch copy of `scenarios/` and `results/` (and
//! writes what it would write under `/tmp` there too), so
//! relative output paths (`results/…`, `ci/…`) land there and the checkout is
//! never written. Long runs are shortened by [`shorten`]; a placeholder for
//! the reader's own scenario is mapped to a bundled one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Documentation files whose knsim commands are checked.
fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.ends_with("knload.md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// One documented command and where it is written.
#[derive(Debug)]
struct Example {
    place: String,
    args: Vec<String>,
}

/// Splits a shell command line into words, honouring single and double
/// quotes and dropping a trailing `# comment`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '#' if !in_word => break,
                c if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                c => {
                    cur.push(c);
                    in_word = true;
                }
            },
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The knsim arguments of a command line, if it is a knsim command.
fn knsim_args(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("run:").trim();
    let rest = [
        "knsim ",
        "./target/release/knsim ",
        "cargo run --release -- ",
    ]
    .iter()
    .find_map(|p| line.strip_prefix(p))?;
    Some(shell_words(rest))
}

/// Inline code spans (text between single backticks) of a line.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

fn extract(path: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut fenced = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let place = format!("{name}:{}", i + 1);
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            let mut cmd = line.trim().to_string();
            while cmd.ends_with('\\') && i + 1 < lines.len() {
                cmd.pop();
                i += 1;
                cmd.push(' ');
                cmd.push_str(lines[i].trim());
            }
            if let Some(args) = knsim_args(&cmd) {
                out.push(Example { place, args });
            }
        } else {
            for span in code_spans(line) {
                let placeholder = ["SCENARIO", "DIR", "FILE", "…", "["]
                    .iter()
                    .any(|p| span.contains(p));
                if span.contains("scenarios/") && !placeholder {
                    if let Some(args) = knsim_args(span) {
                        out.push(Example {
                            place: place.clone(),
                            args,
                        });
                    }
                }
                // The README's `--set` examples refer to the tutorial.
                let set = span
                    .strip_prefix("--set ")
                    .or_else(|| span.starts_with("revision.").then_some(span));
                if let (Some(set), "README.md") = (set, name.as_str()) {
                    let mut args: Vec<String> =
                        ["validate", "scenarios/greeter-tutorial.toml", "--set"]
                            .map(String::from)
                            .to_vec();
                    args.extend(shell_words(set));
                    out.push(Example {
                        place: place.clone(),
                        args,
                    });
                }
            }
        }
        i += 1;
    }
    out
}

/// Stand-ins for names the docs use for the reader's own files.
const PLACEHOLDERS: &[(&str, &str)] =
    &[("scenarios/my-service.toml", "scenarios/slo-example.toml")];

/// Makes a documented command quick enough for a debug build, and says
/// which exit codes it may then end with. Sweeps keep two replications;
/// a very long run is cut to two simulated minutes; validate-model runs the
/// quick profile's M/G/∞ experiment with three replications (few enough that
/// a row may legitimately miss its target, so exit 1 is accepted as well).
fn shorten(args: &mut Vec<String>) -> &'static [i32] {
    for a in args.iter_mut() {
        for (from, to) in PLACEHOLDERS {
            if a == from {
                *a = to.to_string();
            }
        }
        if a.starts_with("duration=") && a != "duration=2m" {
            *a = "duration=2m".into();
        }
    }
    match args.first().map(String::as_str) {
        Some("sweep") | Some("check") => {
            if let Some(i) = args.iter().position(|a| a == "--reps") {
                args[i + 1] = "2".into();
            }
            &[0]
        }
        Some("validate-model") => {
            if let Some(i) = args.iter().position(|a| a == "--replications") {
                args.drain(i..i + 2);
            }
            if !args.iter().any(|a| a == "--quick") {
                args.push("--quick".into());
            }
            if !args.iter().any(|a| a == "--only") {
                args.extend(["--only".into(), "mginf".into()]);
            }
            args.extend(["--replications".into(), "3".into()]);
            &[0, 1]
        }
        _ => &[0],
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn documented_knsim_commands_run() {
    let examples: Vec<Example> = doc_files().iter().flat_map(|f| extract(f)).collect();
    // A guard against the extractor silently finding nothing.
    assert!(examples.len() >= 15, "{examples:#?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    for d in ["scenarios", "results"] {
        copy_dir(&root.join(d), &scratch.path().join(d));
    }
    let bin = assert_cmd::cargo::cargo_bin("knsim");
    let mut failures = Vec::new();
    for mut ex in examples {
        let shown = ex.args.join(" ");
        let allowed = shorten(&mut ex.args);
        // Output folders under /tmp go into the scratch copy too, so an old
        // folder of the same name can't change what a documented command does.
        for a in &mut ex.args {
            if let Some(rest) = a.strip_prefix("/tmp/") {
                *a = format!("tmp/{rest}");
            }
        }
        let started = std::time::Instant::now();
        let out = Command::new(&bin)
            .current_dir(scratch.path())
            .args(&ex.args)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        eprintln!(
            "{:5.1} s  exit {code}  {}: knsim {}",
            started.elapsed().as_secs_f64(),
            ex.place,
            ex.args.join(" ")
        );
        if !allowed.contains(&code) {
            failures.push(format!(
                "{}: knsim {shown}\n  exit {code}: {}",
                ex.place,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shell_words_follow_quoting() {
    assert_eq!(
        shell_words(r#"sweep x --vary 'a."b/c"=5,7' --out d   # note"#),
        ["sweep", "x", "--vary", r#"a."b/c"=5,7"#, "--out", "d"]
    );
    assert_eq!(shell_words("a \"b c\" d"), ["a", "b c", "d"]);
}
