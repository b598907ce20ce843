#!/usr/bin/env bash
# Makes pgo/knsim.profdata, the profile that optimised builds of the knsim
# crate are compiled with (scripts/pgo-rustc): builds an instrumented knsim,
# runs every bundled scenario (scenarios/*.toml) with it, and merges what
# the runs counted. Run it after changing the simulator, and commit the
# three files it writes to pgo/.
#
#   scripts/pgo-profile.sh
#
# Needs llvm-profdata of the toolchain's own LLVM version:
#   rustup component add llvm-tools
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
[ -x "$profdata" ] || { echo "missing $profdata: rustup component add llvm-tools" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Instrumented builds in a target directory of their own, so the ordinary
# build's artefacts stay as they are. LLVM_PROFILE_FILE says where the runs
# write, whatever path an earlier instrumented build has baked in.
export KNSIM_PGO_GENERATE="$root/target/pgo-generate/raw"
export CARGO_TARGET_DIR="$root/target/pgo-generate"
export LLVM_PROFILE_FILE="$work/raw/knsim-%m-%p.profraw"
# `cargo build --release` (and `cargo run --release`, `cargo install`): the
# command line, over every bundled scenario.
cargo build --release --bin knsim
for s in scenarios/*.toml; do
  echo "training run: $s" >&2
  "$CARGO_TARGET_DIR/release/knsim" run "$s" --out "$work/out/$(basename "$s" .toml)" -q >/dev/null
done
# `cargo bench`: cargo compiles the library apart when dev-dependencies are
# in the build, so the same scenarios run again through a build of that
# kind (examples/pgo-train.rs).
cargo run --profile bench --example pgo-train
mkdir -p pgo
"$profdata" merge --sparse -o "$work/knsim.profdata" "$work"/raw/*.profraw
mv "$work/knsim.profdata" pgo/knsim.profdata
rustc -V >pgo/knsim.rustc
scripts/pgo-sources.sh "$root" >pgo/knsim.sources
echo "wrote pgo/knsim.profdata ($(wc -c <pgo/knsim.profdata) bytes) from $(ls "$work"/raw | wc -l) raw profile(s)" >&2
