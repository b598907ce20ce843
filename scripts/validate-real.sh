#!/usr/bin/env bash
# Compare knsim with a real HTTP server: knload's revision emulator
# (`knload serve`) runs one "pod" with a service-time distribution and a
# containerConcurrency limit (queue-proxy semantics: CC running, 10*CC
# waiting, 503 beyond), knload drives it open loop at several rates, and knsim
# simulates the same pod (one fixed pod, direct path, same distribution, same
# constant-rate arrivals) over many seeds. One real run of a given length is a
# single sample, so the report gives knsim's mean over the seeds and the
# 2.5-97.5 % spread of single runs of that length, and marks whether the real
# value falls inside that spread. Compared: latency percentiles of successful
# requests and 503 rates.
#
# Needs: the knsim and knload binaries (build both with `cargo build
# --release`; they are looked for under $CARGO_TARGET_DIR when that is set;
# pass other paths with --knsim/--knload) and python3. Only
# 127.0.0.1 is used; the server is stopped when the script exits.
#
# Usage: scripts/validate-real.sh [--rates "20 40 60"] [--duration 30s]
#          [--service-time exp:20ms] [--cc 1] [--connections 200]
#          [--seeds 40] [--out results/validation-real.md]
#          [--knsim PATH] [--knload PATH]
#
# Service times use knload's syntax: 20ms (constant), exp:20ms,
# lognormal:MEDIAN,SIGMA. Latency is measured by knload from each request's
# intended send time, so client-side scheduling lag counts, as it would for a
# real user.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
knsim="$target_dir/release/knsim"
knload="$target_dir/release/knload"
rates="20 35 45 60"
duration="30s"
service="exp:20ms"
cc=1
connections=200
seeds=40
out="$root/results/validation-real.md"

while [ $# -gt 0 ]; do
  case "$1" in
    --rates) rates="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --service-time) service="$2"; shift 2 ;;
    --cc) cc="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --knsim) knsim="$2"; shift 2 ;;
    --knload) knload="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

for b in "$knsim" "$knload"; do
  [ -x "$b" ] || { echo "missing binary: $b (cargo build --release)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# knload's service-time syntax as a knsim distribution.
knsim_dist=$(python3 - "$service" <<'PY'
import math, sys
s = sys.argv[1]
if s.startswith("exp:"):
    print('{ distribution = "exponential", mean = "%s" }' % s[4:])
elif s.startswith("lognormal:"):
    med, sigma = s[len("lognormal:"):].split(",")
    # knsim takes (median, p99); p99 = median * exp(2.3263 sigma).
    unit = med.lstrip('0123456789.')
    num = float(med[:len(med) - len(unit)])
    p99 = num * math.exp(2.326348 * float(sigma))
    print('{ distribution = "lognormal", median = "%s", p99 = "%.6f%s" }' % (med, p99, unit))
elif s.startswith("uniform:"):
    sys.exit("uniform service times are not mapped; use a constant, exp: or lognormal:")
else:
    print('{ distribution = "constant", value = "%s" }' % s)
PY
)

"$knload" serve --listen 127.0.0.1:0 --service-time "$service" \
  --container-concurrency "$cc" --seed 1 > "$work/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "knload serve did not start:"; cat "$work/serve.log"; exit 1; } >&2

rows=""
for rate in $rates; do
  echo "rate $rate/s: real server ..." >&2
  "$knload" "$url/" -z "$duration" -q "$rate" -c "$connections" --no-progress \
    --json "$work/real-$rate.json" --requests-csv "$work/real-$rate.csv" > /dev/null
  echo "rate $rate/s: knsim ..." >&2
  cat > "$work/sim-$rate.toml" <<TOML
name = "real-comparison"
seed = 1
duration = "$duration"
[cluster.pod-startup]
scheduling = { distribution = "constant", value = "1ms" }
image-pull = { distribution = "constant", value = "1ms" }
container-start = { distribution = "constant", value = "1ms" }
app-init = { distribution = "constant", value = "1ms" }
[[revision]]
name = "real-00001"
containerConcurrency = $cc
service-time = $knsim_dist
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
"autoscaling.knative.dev/max-scale" = "1"
"autoscaling.knative.dev/target-burst-capacity" = "0"
[[workload]]
name = "open-loop"
arrival = { process = "constant", rate = $rate }
TOML
  for seed in $(seq 1 "$seeds"); do
    "$knsim" run "$work/sim-$rate.toml" --seed "$seed" --out "$work/sim-$rate-$seed" --quiet
  done
  rows+=$(python3 - "$rate" "$work/real-$rate.csv" "$work/sim-$rate" "$seeds" <<'PY'
import csv, json, sys
rate, real_csv, sim_prefix, seeds = sys.argv[1:]
lat, n, n503 = [], 0, 0
with open(real_csv) as f:
    for row in csv.DictReader(f):
        n += 1
        st = row.get("status", "")
        if st == "200":
            lat.append(float(row["latency_s"]) * 1000.0)
        elif st == "503":
            n503 += 1
lat.sort()
def q(p):
    if not lat:
        return float("nan")
    return lat[min(len(lat) - 1, int(p * len(lat)))]
real = [q(0.5), q(0.9), q(0.99), 100.0 * n503 / max(1, n)]
runs = []
for k in range(1, int(seeds) + 1):
    s = json.load(open("%s-%d/summary.json" % (sim_prefix, k)))
    lat_s = s["latency"]
    arr = max(1, s["requests"]["arrived"])
    runs.append([lat_s["p50_ms"], lat_s["p90_ms"], lat_s["p99_ms"], 100.0 * s["requests"]["status_503"] / arr])
def cell(i):
    xs = sorted(r[i] for r in runs)
    mean = sum(xs) / len(xs)
    lo, hi = xs[int(0.025 * (len(xs) - 1))], xs[int(round(0.975 * (len(xs) - 1)))]
    inside = "yes" if lo <= real[i] <= hi else "**no**"
    err = 100.0 * (mean - real[i]) / real[i] if real[i] > 0 else float("nan")
    return "%.2f | %.2f [%.2f, %.2f] | %+.1f %% | %s" % (real[i], mean, lo, hi, err, inside)
for i, name in enumerate(["p50 (ms)", "p90 (ms)", "p99 (ms)", "503 (%)"]):
    print("| %s | %s | %s |" % (rate, name, cell(i)))
PY
)$'\n'
done

mkdir -p "$(dirname "$out")"
{
  echo "# knsim against a real server (knload serve)"
  echo
  echo "Generated by \`scripts/validate-real.sh --rates \"$rates\" --duration $duration --service-time $service --cc $cc --connections $connections --seeds $seeds\`"
  echo "on $(uname -n), $(date -u +%Y-%m-%dT%H:%MZ). knload serve seed 1; one pod, containerConcurrency $cc,"
  echo "constant-rate open-loop arrivals, direct path (no activator)."
  echo
  echo "knsim: seeds 1-$seeds, one run per seed of the same length as the real run."
  echo
  echo "| rate (req/s) | quantity | real (one run) | knsim mean [2.5 %, 97.5 % of single runs] | knsim mean vs real | real inside knsim spread |"
  echo "|---:|---|---:|---:|---:|:-:|"
  printf "%s" "$rows"
  echo
  echo "Latency percentiles are of successful requests. The real side adds network, HTTP,"
  echo "timer and scheduling overheads that knsim does not model (its request path has no"
  echo "delays of its own), so real values above knsim's at every percentile would be the"
  echo "expected systematic part; see docs/validation.md."
} > "$out"
cat "$out"
