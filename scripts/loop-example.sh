#!/usr/bin/env bash
# The loopback worked example of docs/loop.md: predict, then measure, on
# 127.0.0.1 only.
#
#   1. knload serve stands in for the real revision (lognormal service time,
#      median 20 ms, sigma 0.5);
#   2. knload measures it at low load, knsim fit recovers the service time;
#   3. knload --scenario sends the example scenario's workload;
#   4. knsim compare runs the scenario (3 seeds) with the fitted service time
#      and compares: it must agree (exit 0);
#   5. the same with half the fitted service time: compare must flag it
#      (exit 1).
#
#   scripts/loop-example.sh [OUT_DIR]     (default results/loop-example)
#
# Uses $KNSIM and $KNLOAD when set, else the release builds under
# $CARGO_TARGET_DIR (or target/): cargo build --release --bins --workspace.
# Exits 0 when both verdicts are as expected.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Relative paths keep the committed outputs free of this machine's paths.
cd "$root"
out=${1:-results/loop-example}
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
knsim=${KNSIM:-$target_dir/release/knsim}
knload=${KNLOAD:-$target_dir/release/knload}
for b in "$knsim" "$knload"; do
  [ -x "$b" ] || { echo "no $b; build first: cargo build --release --bins --workspace" >&2; exit 1; }
done
scenario=results/loop-example/scenario.toml
mkdir -p "$out"
rm -rf "$out/predicted" "$out/predicted-half" "$out/compare" "$out/compare-half"

log=$(mktemp)
"$knload" serve --listen 127.0.0.1:0 --service-time lognormal:20ms,0.5 --seed 1 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "knload serve did not start:" >&2; cat "$log" >&2; exit 1; }

echo "== low-load measurement: 20 req/s for 20 s"
"$knload" -z 20s -q 20 -c 16 --no-progress --requests-csv "$out/low-load.csv" "$url" | tee "$out/low-load.txt"

echo "== knsim fit"
"$knsim" fit "$out/low-load.csv" --out "$out/fitted.toml" 2>"$out/fit.txt"
cat "$out/fit.txt" "$out/fitted.toml"
"$knsim" fit "$out/low-load.csv" --scale 0.5 --out "$out/half.toml" 2>/dev/null
# The scenario with the fitted service time, and with half of it.
fitted=$(sed -n 's/^service-time = //p' "$out/fitted.toml")
half=$(sed -n 's/^service-time = //p' "$out/half.toml")
awk -v st="$fitted" 'BEGIN{print "# Written by scripts/loop-example.sh: scenario.toml with the fitted service time."} /^service-time = /{print "service-time = " st; next} {print}' "$scenario" >"$out/scenario-fitted.toml.tmp"
awk -v st="$half" 'BEGIN{print "# Written by scripts/loop-example.sh: scenario.toml with half the fitted service time."} /^service-time = /{print "service-time = " st; next} {print}' "$scenario" >"$out/scenario-half.toml.tmp"
mv "$out/scenario-fitted.toml.tmp" "$out/scenario-fitted.toml"
mv "$out/scenario-half.toml.tmp" "$out/scenario-half.toml"

echo "== knload --scenario"
"$knload" --scenario "$scenario" -c 16 --no-progress \
  --requests-csv "$out/measured.csv" --json "$out/measured.json" "$url" | tee "$out/measured.txt"

echo "== knsim compare: fitted service time"
set +e
"$knsim" compare "$out/predicted" "$out/measured.csv" --scenario "$out/scenario-fitted.toml" \
  --reps 3 --plot --out "$out/compare" | tee "$out/compare.txt"
agree=${PIPESTATUS[0]}
echo "== knsim compare: half the fitted service time"
"$knsim" compare "$out/predicted-half" "$out/measured.csv" --scenario "$out/scenario-half.toml" \
  --reps 3 --plot --out "$out/compare-half" | tee "$out/compare-half.txt"
differ=${PIPESTATUS[0]}
set -e
echo "compare exit codes: fitted $agree (want 0), half $differ (want 1)"
[ "$agree" = 0 ] && [ "$differ" = 1 ]
