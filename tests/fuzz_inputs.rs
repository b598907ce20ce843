//! A seeded mutator over the bundled scenarios, manifests and traces: every
//! mutant goes through the real `knsim validate` and, when it validates, a
//! `knsim run` bounded by `limits.max-events`. Each must exit 0 or 2, never
//! panic, abort on a signal or hang. The seed is fixed, so a failure
//! reproduces; `KNSIM_FUZZ_CASES` runs more cases and `KNSIM_FUZZ_SEED`
//! another sequence.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x6b6e_7369_6d21;
const DEFAULT_CASES: usize = 120;
/// Keeps every run short in a debug build on a busy machine.
const MAX_EVENTS: &str = "limits.max-events=200000";
/// A process still running after this is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// SplitMix64: small, seeded and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0.5",
    "1e-300",
    "65536",
    "4294967295",
    "9223372036854775807",
    "99999999999999999999999",
    "1e300",
    "nan",
    "inf",
    "100000000",
    "0.0000001",
];

fn strings() -> Vec<String> {
    vec![
        String::new(),
        " 60s".into(),
        "10s ".into(),
        "abc".into(),
        "-5m".into(),
        "1e300h".into(),
        "\u{0}".into(),
        "a/b".into(),
        "x".repeat(5000),
        "100000000".into(),
        "kpa.autoscaling.knative.dev".into(),
        "hpa.autoscaling.knative.dev".into(),
    ]
}

/// One random change to `text`.
fn mutate(rng: &mut Rng, text: &[u8], yaml: bool) -> Vec<u8> {
    let s = String::from_utf8_lossy(text).into_owned();
    let lines: Vec<&str> = s.lines().collect();
    match rng.below(8) {
        0 | 1 => {
            // A number becomes an extreme one.
            let spans = token_spans(&s, |c| c.is_ascii_digit() || c == '.');
            match spans.is_empty() {
                true => s.into_bytes(),
                false => {
                    let (a, b) = *rng.pick(&spans);
                    format!("{}{}{}", &s[..a], rng.pick(NUMBERS), &s[b..]).into_bytes()
                }
            }
        }
        2 => {
            // A quoted string becomes an odd one.
            let quotes: Vec<usize> = s.match_indices('"').map(|(i, _)| i).collect();
            if quotes.len() < 2 {
                return s.into_bytes();
            }
            let k = rng.below(quotes.len() / 2) * 2;
            let (a, b) = (quotes[k] + 1, quotes[k + 1]);
            let v = rng.pick(&strings()).clone();
            let v = if yaml { v } else { v.replace('\0', "\\u0000") };
            format!("{}{}{}", &s[..a], v, &s[b..]).into_bytes()
        }
        3 if !lines.is_empty() => {
            let drop = rng.below(lines.len());
            join(
                lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .map(|(_, l)| *l),
            )
        }
        4 if !lines.is_empty() => {
            let dup = rng.below(lines.len());
            let mut v = lines.clone();
            v.insert(dup, lines[dup]);
            join(v.into_iter())
        }
        5 => {
            // Stray bytes, including control characters and invalid UTF-8.
            let mut out = text.to_vec();
            let at = rng.below(out.len() + 1);
            let junk: &[&[u8]] = &[b"[", b"{", b"\x01", b"\xff\xfe", b"=", b"\n[[", b"'", b"\""];
            out.splice(at..at, rng.pick(junk).iter().copied());
            out
        }
        6 => text[..rng.below(text.len() + 1)].to_vec(),
        _ => {
            // Deep nesting where a value goes.
            let n = 1 + rng.below(5000);
            let deep = format!("{}{}", "[".repeat(n), "]".repeat(n));
            let mut out = s.into_bytes();
            let at = out.iter().position(|b| *b == b'\n').unwrap_or(out.len());
            let ins = if yaml {
                format!("\nx: {deep}")
            } else {
                format!("\nx = {deep}")
            };
            out.splice(at..at, ins.bytes());
            out
        }
    }
}

fn join<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut v: Vec<&str> = lines.collect();
    v.push("");
    v.join("\n").into_bytes()
}

fn token_spans(s: &str, part: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (start, part(c) && (c != '.' || start.is_some())) {
            (None, true) if c.is_ascii_digit() => start = Some(i),
            (Some(a), false) => {
                out.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "toml" || x == "yaml" || x == "csv")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for f in files(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, dest).unwrap();
    }
}

/// Runs knsim with a time-out; None when it had to be killed.
fn knsim(args: &[&str]) -> Option<(ExitStatus, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_knsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status, reader.join().unwrap()));
        }
        if start.elapsed() > TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn check(case: &str, args: &[&str], allowed: &[i32]) -> i32 {
    let Some((status, stderr)) = knsim(args) else {
        panic!("{case}: knsim {args:?} did not finish within {TIMEOUT:?}");
    };
    assert!(!stderr.contains("panicked"), "{case}: panic: {stderr}");
    let Some(code) = status.code() else {
        panic!("{case}: knsim {args:?} was killed by a signal ({status}): {stderr}");
    };
    assert!(
        allowed.contains(&code),
        "{case}: knsim {args:?} exited {code}: {stderr}"
    );
    if code == 2 {
        assert!(stderr.starts_with("error: "), "{case}: {stderr}");
    }
    code
}

#[test]
fn mutated_inputs_exit_0_or_2_without_panic_abort_or_hang() {
    let cases = std::env::var("KNSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scenarios");
    copy_tree(&src, &root);
    let corpus = files(&root);
    let scenarios: Vec<PathBuf> = corpus
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .cloned()
        .collect();
    let out = dir.path().join("out");
    let seed = std::env::var("KNSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEED);
    let mut rng = Rng(seed);
    let (mut validated, mut ran) = (0, 0);
    for case in 0..cases {
        let target = rng.pick(&corpus).clone();
        let original = std::fs::read(&target).unwrap();
        let yaml = target.extension().is_some_and(|x| x == "yaml");
        let mutant = mutate(&mut rng, &original, yaml);
        std::fs::write(&target, &mutant).unwrap();
        // A manifest or trace is exercised through a scenario that reads it.
        let file_name = target.file_name().unwrap().to_string_lossy().into_owned();
        let users: Vec<&PathBuf> = if target.extension().is_some_and(|x| x == "toml") {
            vec![&target]
        } else {
            scenarios
                .iter()
                .filter(|s| {
                    std::fs::read_to_string(s).is_ok_and(|t| t.contains(file_name.as_str()))
                })
                .collect()
        };
        if let Some(sc) = users.first() {
            let label = format!("case {case} ({})", target.display());
            let sc = sc.to_str().unwrap();
            let code = check(&label, &["validate", sc, "--set", MAX_EVENTS], &[0, 2]);
            if code == 0 {
                validated += 1;
                let o = out.to_str().unwrap();
                let run = ["run", sc, "-q", "--out", o, "--set", MAX_EVENTS];
                if check(&label, &run, &[0, 2]) == 0 {
                    ran += 1;
                }
            }
        }
        std::fs::write(&target, &original).unwrap();
    }
    // The mutator must leave enough inputs valid for runs to be exercised.
    assert!(
        validated >= cases / 10,
        "only {validated} of {cases} validated"
    );
    assert!(ran >= 1, "no mutant ran");
}
