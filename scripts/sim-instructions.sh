#!/usr/bin/env bash
# Steady-state instructions per simulated request, counted by callgrind:
# each case runs twice, both runs past the pinned pods' start-up, and the
# difference of their instruction totals is divided by the difference of
# their arrivals, so start-up and set-up cancel out. Instruction counts are
# steady on a shared machine where times are not (docs/performance.md).
#
#   scripts/sim-instructions.sh [KNSIM_BINARY]
#
# Needs valgrind and python3, and a build with symbols, by default
# target/release-debug/knsim (cargo build --profile release-debug --bin knsim).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release-debug/knsim}
[ -x "$bin" ] || { echo "no $bin; build it: cargo build --profile release-debug --bin knsim" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "missing valgrind: apt-get install valgrind" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The 200-Service case of benches/simulate.rs: 200 Services of 10 pinned
# pods, 10 req/s each.
services=$work/services-200.toml
printf 'name = "bench-services-200"\nduration = "1m"\n' >"$services"
for i in $(seq 0 199); do
  cat >>"$services" <<TOML
[[service]]
name = "s$i"
[[service.revision]]
containerConcurrency = 10
service-time = { distribution = "exponential", mean = "100ms" }
[service.revision.annotations]
"autoscaling.knative.dev/min-scale" = "10"
"autoscaling.knative.dev/max-scale" = "10"
"autoscaling.knative.dev/initial-scale" = "10"
[[service.workload]]
name = "w$i"
arrival = { process = "poisson", rate = 10.0 }
TOML
done

# instructions and arrivals of one run: FILE DURATION
count() {
  local out=$work/run-$RANDOM
  valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
    "$bin" run "$1" --set "duration=$2" --out "$out" -q >/dev/null 2>&1
  local ir
  ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$out.cg")
  local arrived
  arrived=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"]["arrived"])' "$out/summary.json")
  echo "$ir $arrived"
}

printf '%-14s %8s %8s %14s\n' case short long "instr/request"
while read -r label file d1 d2; do
  read -r i1 a1 < <(count "$file" "$d1")
  read -r i2 a2 < <(count "$file" "$d2")
  printf '%-14s %8s %8s %14s\n' "$label" "$d1" "$d2" "$(( (i2 - i1) / (a2 - a1) ))"
done <<CASES
10-pods $root/scenarios/bench-pinned-10.toml 60s 120s
1000-pods $root/scenarios/bench-pinned-1000.toml 13s 15s
200-services $services 60s 120s
CASES
