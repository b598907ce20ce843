//! Every knload command shown in README.md, docs/knload.md and `--help`
//! must parse and validate, so the documentation cannot drift from the
//! command line. Nothing is connected to.

use clap::Parser;
use knload::{Cli, Command};

/// Splits a shell command line into words: single and double quotes,
/// backslash escapes; an unquoted word starting with `#` ends the command.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        _ => w.push(q),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '#' if word.is_none() => break,
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// knload commands in a text's fenced code blocks, continuation lines
/// joined, with the placeholder `URL` made a real URL.
fn commands_in(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        let words = shell_words(&std::mem::take(&mut pending));
        if words
            .first()
            .is_some_and(|w| w == "knload" || w.ends_with("/knload"))
        {
            out.push(
                words
                    .into_iter()
                    .map(|w| {
                        if w == "URL" {
                            "http://127.0.0.1:8080/".into()
                        } else {
                            w
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

fn check(source: &str, words: &[String]) {
    let cli = Cli::try_parse_from(words)
        .unwrap_or_else(|e| panic!("{source}: `{}` does not parse:\n{e}", words.join(" ")));
    let valid = match &cli.command {
        None => cli.load.validate().map(|_| ()),
        Some(Command::Serve(s)) => s.validate().map(|_| ()),
        Some(Command::Merge(_)) => Ok(()),
    };
    if let Err(e) = valid {
        panic!("{source}: `{}` is rejected: {e}", words.join(" "));
    }
}

fn read(path: &str) -> String {
    let p = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn the_readme_and_docs_knload_commands_are_valid() {
    let mut seen = 0;
    for path in ["README.md", "docs/knload.md"] {
        let cmds = commands_in(&read(path));
        assert!(!cmds.is_empty(), "{path} shows no knload command");
        for c in &cmds {
            check(path, c);
        }
        seen += cmds.len();
    }
    // The README's ramp example with -q, among others.
    assert!(seen >= 8, "only {seen} commands found");
}

#[test]
fn the_help_examples_are_valid() {
    for (name, text, count) in [
        ("knload --help", knload::LOAD_EXAMPLES, 5),
        ("knload merge --help", knload::MERGE_EXAMPLES, 3),
        ("knload serve --help", knload::SERVE_EXAMPLES, 4),
    ] {
        let cmds: Vec<Vec<String>> = text
            .lines()
            .filter(|l| l.starts_with("  knload "))
            .map(shell_words)
            .collect();
        assert_eq!(cmds.len(), count, "{name}");
        for c in &cmds {
            check(name, c);
        }
    }
}

#[test]
fn the_example_extractor_sees_what_a_shell_would() {
    assert_eq!(
        shell_words(r#"knload -H 'a: b' --classify "body:^(Hi|x)" URL  # note"#),
        ["knload", "-H", "a: b", "--classify", "body:^(Hi|x)", "URL"]
    );
    let doc = "text\n```\nknload -n 5 \\\n  http://a/   # c\ncargo build\n```\nknload -x\n";
    assert_eq!(commands_in(doc), [["knload", "-n", "5", "http://a/"]]);
}

#[test]
fn the_scripts_look_for_binaries_under_cargo_target_dir() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    for (script, binary, hint) in [
        (
            "scripts/knload-bench.sh",
            "release/knload",
            "cargo build --release -p knload",
        ),
        (
            "scripts/validate-real.sh",
            "release/knsim",
            "cargo build --release",
        ),
    ] {
        let out = std::process::Command::new("bash")
            .arg(format!("{root}/{script}"))
            .env("CARGO_TARGET_DIR", dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{script}: {err}");
        let wanted = dir.path().join(binary);
        assert!(
            err.contains(&*wanted.to_string_lossy()),
            "{script} did not look in CARGO_TARGET_DIR: {err}"
        );
        assert!(err.contains(hint), "{script}: {err}");
    }
}
