//! The training run of `scripts/pgo-profile.sh` for builds that link the
//! library together with the dev-dependencies (`cargo bench`, examples):
//! cargo compiles the library apart for those, under other symbol names
//! than `cargo build --release` gives it, so each build needs its own part
//! of the profile. It runs every bundled scenario (`scenarios/*.toml`, in
//! name order) once with seed 1, as `knsim run` does, and keeps nothing.
//!
//! ```sh
//! cargo run --profile bench --example pgo-train
//! ```

use anyhow::Context;
use knsim::model::{simulate, NoTimeseries};
use knsim::scenario::load_scenario;
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|x| x == "toml"));
    files.sort();
    for f in &files {
        let sc = load_scenario(f, &[]).with_context(|| format!("loading {}", f.display()))?;
        let s = simulate(&sc, 1, &mut NoTimeseries);
        eprintln!(
            "training run: {} ({} requests)",
            f.display(),
            s.requests.arrived
        );
    }
    Ok(())
}
