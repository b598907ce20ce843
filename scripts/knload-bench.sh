#!/usr/bin/env bash
# Benchmarks knload against wrk on a local nginx (a small static file),
# alternating A/B/A/B so drift hits both tools alike, in four cases: quiet
# (the machine as it is, nginx with one worker), quiet-2w (the same with two
# nginx workers, so that the server is not the bottleneck and the client's
# own cost shows in the throughput), busy (one worker, beside one CPU-bound
# neighbour process, the case issue 16 sets the goal for) and busy-2 (one
# busy loop per core, heavier). Each run also records nginx's CPU (in
# cores) and the client's voluntary context switches: on a shared machine
# the throughput follows how much CPU the scheduler gives nginx, and that
# is what moves between runs. Then it counts syscalls per request
# (strace), user-space instructions per request (callgrind), the open
# loop's pacing and a long run's memory.
# Writes results/knload/bench.md.
#
#   scripts/knload-bench.sh [SECONDS] [CONNECTIONS] [ROUNDS] [OUTPUT]
#
# KNLOAD_ARGS adds options to every knload run, to compare a setting with
# the default: KNLOAD_ARGS='--sched normal' scripts/knload-bench.sh 5 50 8 /tmp/normal.md
#
# Needs: nginx, wrk, /usr/bin/time (apt-get install nginx wrk time), valgrind
# for the instruction counts and strace for the syscalls (each skipped
# without it), and a
# release build (cargo build --release -p knload), looked for under
# $CARGO_TARGET_DIR when that is set, else under target/.
set -euo pipefail
secs=${1:-10}
conns=${2:-50}
rounds=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
knload="$target_dir/release/knload"
read -r -a knload_args <<<"${KNLOAD_ARGS:-}"
out="$root/results/knload"
[ -x "$knload" ] || { echo "no $knload; build first: cargo build --release -p knload" >&2; exit 1; }
for t in nginx wrk /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install nginx wrk time" >&2; exit 1; }
done

work=$(mktemp -d)
nginx_pids=()
# CPU-bound neighbours: busy loops, as a batch job or another tenant would
# be, so that the tools and nginx get only their share of the cores.
hogs=()
start_hogs() { for _ in $(seq "$1"); do ( while :; do :; done ) & hogs+=($!); done; }
stop_hogs() {
  if [ ${#hogs[@]} -gt 0 ]; then
    kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
  fi
  hogs=()
}
trap 'stop_hogs; kill "${nginx_pids[@]}" 2>/dev/null; wait "${nginx_pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
# start_nginx NAME WORKERS: an nginx of WORKERS worker processes serving the
# small file on a free port of 127.0.0.1; sets NAME_url and NAME_workers
# (the workers' pids, whose CPU time each run reads from /proc).
start_nginx() {
  local name=$1 workers=$2 dir="$work/nginx-$1" port pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/html" "$dir/logs"
  printf 'hello knload\n' > "$dir/html/index.html"
  cat > "$dir/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port;
    root $dir/html;
    location / { index index.html; }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" &
  pid=$!
  nginx_pids+=("$pid")
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && [ "$(pgrep -c -P "$pid")" -ge "$workers" ] && break
    sleep 0.1
  done
  printf -v "${name}_url" '%s' "http://127.0.0.1:$port/"
  printf -v "${name}_workers" '%s' "$(pgrep -P "$pid" | tr '\n' ' ')"
}
# One worker, as in the issue's figures: the server's one core caps both
# tools alike. Two workers: on two cores the server can take more than the
# client leaves it, so the client's own cost decides the throughput.
start_nginx one 1
start_nginx two 2
url=$one_url
ngx_workers=$one_workers
tick=$(getconf CLK_TCK)
ngx_ticks() {
  local w sum=0
  for w in $ngx_workers; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$w/stat"))); done
  echo "$sum"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# time -f: user+sys CPU seconds, peak RSS in KiB and voluntary context
# switches, on the last stderr line.
measure() { /usr/bin/time -f "TIME %U %S %M %w" "$@" 2>"$work/time.txt" >"$work/out.txt"; tail -1 "$work/time.txt"; }

rows=()
ratios=()
# pairs CASE: ROUNDS alternating wrk/knload pairs; one row per run, one
# ratio per pair, and the pair's numbers in $work/pairs.txt for the medians.
pairs() {
  local case=$1 round tool t reqs p50 user sys rss vcs row wrk_reqs wrk_cpu wrk_ngx ngx0 ngx
  for round in $(seq "$rounds"); do
    for tool in wrk knload; do
      ngx0=$(ngx_ticks)
      if [ "$tool" = wrk ]; then
        t=$(measure wrk -t1 -c"$conns" -d"${secs}s" --latency "$url")
        reqs=$(awk '/requests in/ {print $1}' "$work/out.txt")
        p50=$(awk '$1=="50%" {print $2}' "$work/out.txt")
      else
        t=$(measure "$knload" "${knload_args[@]}" -c"$conns" -z"${secs}s" --no-progress --json "$work/k.json" "$url")
        reqs=$(python3 -c "import json;print(json.load(open('$work/k.json'))['requests'])")
        p50=$(python3 -c "import json;print('%.3fms' % json.load(open('$work/k.json'))['latency']['p50_ms'])")
      fi
      ngx=$(python3 -c "print(($(ngx_ticks) - $ngx0) / $tick / $secs)")
      read -r _ user sys rss vcs <<<"$t"
      row=$(python3 -c "
r=$reqs; cpu=$user+$sys
print('| %s | %d | %s | %d | %.0f | %.2f | %.2f | %.2f | %.1f | %s |' % ('$case', $round, '$tool', r, r/$secs, cpu*1e6/r, $ngx, $vcs/r, $rss/1024, '$p50'))")
      echo "$row"
      rows+=("$row")
      if [ "$tool" = wrk ]; then wrk_reqs=$reqs; wrk_cpu="$user+$sys"; wrk_ngx=$ngx; fi
    done
    ratios+=("$(python3 -c "print('| %s | %d | %.3f | %.3f |' % ('$case', $round, $reqs/$wrk_reqs, (($user+$sys)/$reqs)/(($wrk_cpu)/$wrk_reqs)))")")
    python3 -c "print('$case', $wrk_reqs/$secs, ($wrk_cpu)*1e6/$wrk_reqs, $reqs/$secs, ($user+$sys)*1e6/$reqs, $wrk_ngx, $ngx)" >>"$work/pairs.txt"
  done
}
pairs quiet
url=$two_url ngx_workers=$two_workers
load_two=$(cut -d' ' -f1-3 /proc/loadavg)
pairs quiet-2w
url=$one_url ngx_workers=$one_workers
start_hogs 1
load_busy=$(cut -d' ' -f1-3 /proc/loadavg)
pairs busy
stop_hogs
start_hogs "$(nproc)"
load_busy2=$(cut -d' ' -f1-3 /proc/loadavg)
pairs busy-2
stop_hogs
summary=$(python3 - "$work/pairs.txt" <<'PY'
import statistics as st, sys
by = {}
for line in open(sys.argv[1]):
    c, *v = line.split()
    by.setdefault(c, []).append([float(x) for x in v])
for c, ps in by.items():
    m = lambda xs: st.median(xs)
    print("| %s | %d | %.0f | %.0f | %.3f (%.3f–%.3f) | %.2f | %.2f | %.3f (%.3f–%.3f) | %.2f / %.2f |" % (
        c, len(ps), m([p[0] for p in ps]), m([p[2] for p in ps]),
        m([p[2] / p[0] for p in ps]), min(p[2] / p[0] for p in ps), max(p[2] / p[0] for p in ps),
        m([p[1] for p in ps]), m([p[3] for p in ps]),
        m([p[3] / p[1] for p in ps]), min(p[3] / p[1] for p in ps), max(p[3] / p[1] for p in ps),
        m([p[4] for p in ps]), m([p[5] for p in ps])))
PY
)
echo "$summary"
# Whether the goal holds, case by case: a distribution-free confidence
# interval for the median of the per-pair ratios (the order statistics
# x(k) and x(n+1-k) of the sorted ratios, k the largest with
# P(Binomial(n, 1/2) < k) <= 2.5 %), so a verdict needs no assumption about
# how the noise of a shared machine is distributed.
verdict=$(python3 - "$work/pairs.txt" <<'PY'
import math, statistics as st, sys
by = {}
for line in open(sys.argv[1]):
    c, *v = line.split()
    by.setdefault(c, []).append([float(x) for x in v])
def ci(xs):
    xs, n = sorted(xs), len(xs)
    tail = lambda k: sum(math.comb(n, i) for i in range(k)) / 2 ** n
    k = max((k for k in range(1, n // 2 + 1) if tail(k) <= 0.025), default=None)
    if k is None:
        return None
    return xs[k - 1], xs[n - k], 1 - 2 * tail(k)
def judge(xs, higher_is_better):
    c = ci(xs)
    if c is None:
        return "%.3f (too few pairs for a 95 %% interval) | –" % st.median(xs)
    lo, hi, cover = c
    if lo > 1:
        v = "knload higher: goal %s" % ("met" if higher_is_better else "missed")
    elif hi < 1:
        v = "knload lower: goal %s" % ("missed" if higher_is_better else "met")
    else:
        v = "no difference shown"
    return "%.3f (%.3f–%.3f, %.1f %%) | %s" % (st.median(xs), lo, hi, 100 * cover, v)
for c, ps in by.items():
    print("| %s | %d | %s | %s |" % (c, len(ps), judge([p[2] / p[0] for p in ps], True),
                                     judge([p[3] / p[1] for p in ps], False)))
PY
)
echo "$verdict"

# Syscalls per request, one run of each tool on the machine as it is
# (strace slows both, so only the counts mean something): the event loop's
# calls per request, and all calls, start-up included. Skipped without
# strace.
sys_lines="| (strace not installed) | | | |"
if command -v strace >/dev/null; then
  strace -c -f -o "$work/st-wrk.txt" wrk -t1 -c"$conns" -d"${secs}s" "$url" >"$work/out.txt"
  sw=$(awk '/requests in/ {print $1}' "$work/out.txt")
  strace -c -f -o "$work/st-knload.txt" "$knload" "${knload_args[@]}" -c"$conns" -z"${secs}s" --no-progress --json "$work/st.json" "$url" >/dev/null
  sk=$(python3 -c "import json;print(json.load(open('$work/st.json'))['requests'])")
  sys_lines=$(python3 - "$work/st-wrk.txt" "$sw" "$work/st-knload.txt" "$sk" <<'PY'
import sys
for path, reqs, tool in ((sys.argv[1], int(sys.argv[2]), "wrk"), (sys.argv[3], int(sys.argv[4]), "knload")):
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[3].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    loop = ("read", "write", "recvfrom", "sendto", "readv", "writev", "epoll_wait", "epoll_pwait",
            "epoll_ctl", "poll", "futex", "sched_yield", "clock_gettime")
    busy = sorted(((n, c) for n, c in calls.items() if n in loop), key=lambda x: -x[1])
    print("| %s | %d | %s | %.2f |" % (tool, reqs, ", ".join("%s %.3f" % (n, c / reqs) for n, c in busy),
                                      sum(calls.values()) / reqs))
PY
)
fi
echo "$sys_lines"

# User-space instructions per request under callgrind: unlike CPU time they
# do not depend on what else the machine runs. Each tool runs twice, short and
# long, and the difference is divided by the difference in requests, so
# start-up and shutdown cancel out. Skipped without valgrind.
instr_line="| (valgrind not installed) | | |"
if command -v valgrind >/dev/null; then
  refs() { awk '/I *refs:/ {gsub(",", "", $NF); print $NF}' "$work/cg.txt"; }
  cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >"$work/out.txt" 2>"$work/cg.txt"; }
  cg wrk -t1 -c"$conns" -d2s "$url"; w1=$(refs); wn1=$(awk '/requests in/ {print $1}' "$work/out.txt")
  cg wrk -t1 -c"$conns" -d6s "$url"; w2=$(refs); wn2=$(awk '/requests in/ {print $1}' "$work/out.txt")
  cg "$knload" "${knload_args[@]}" -c"$conns" -n 20000 --no-progress "$url"; k1=$(refs)
  cg "$knload" "${knload_args[@]}" -c"$conns" -n 60000 --no-progress "$url"; k2=$(refs)
  instr_line=$(python3 -c "
w = ($w2 - $w1) / ($wn2 - $wn1); k = ($k2 - $k1) / 40000
print('| %.0f | %.0f | %.3f |' % (w, k, k / w))")
fi
echo "$instr_line"

# Open loop at 20k/s against closed loop on one connection (unloaded latency).
"$knload" "${knload_args[@]}" -c "$conns" -q 20000 -z"${secs}s" --no-progress --json "$work/open.json" "$url" >/dev/null
"$knload" "${knload_args[@]}" -c 1 -z"${secs}s" --no-progress --json "$work/closed1.json" "$url" >/dev/null
open_line=$(python3 - "$work/open.json" "$work/closed1.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
rate = o["requests"] / o["elapsed_s"]
print("| open loop -q 20000 | %.1f req/s (%.3f%% off) | p50 %.3f ms | late sends %d, max lag %.3f ms |"
      % (rate, 100*(rate-20000)/20000, o["latency"]["p50_ms"], o["schedule_lag"]["late"], o["schedule_lag"]["max_lag_ms"]))
print("| closed loop -c 1 | %.1f req/s | p50 %.3f ms | |" % (c["throughput_rps"], c["latency"]["p50_ms"]))
PY
)
echo "$open_line"

# Peak memory of a 60 s closed-loop run.
t=$(measure "$knload" "${knload_args[@]}" -c"$conns" -z60s --no-progress "$url")
read -r _ user sys rss _ <<<"$t"
mem_line="| 60 s closed loop, $conns connections | peak RSS $(python3 -c "print('%.1f' % ($rss/1024))") MiB | CPU $(python3 -c "print('%.1f' % ($user+$sys))") s |"
echo "$mem_line"

{
  echo "# knload vs wrk on nginx ($(date -u +%Y-%m-%d), $(nproc) cores, $(nginx -v 2>&1 | sed 's/.*\///'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'))"
  echo
  echo "Command: \`${KNLOAD_ARGS:+KNLOAD_ARGS='$KNLOAD_ARGS' }scripts/knload-bench.sh $secs $conns $rounds\` at commit $(git -C "$root" rev-parse --short HEAD) (nginx: 1 worker, 2 in the quiet-2w case; 13-byte static file, 127.0.0.1)."
  echo "Load average when the quiet case began: $load0; when the quiet-2w case began: $load_two; when the busy case began: $load_busy; when the busy-2 case began: $load_busy2."
  echo "wrk: \`wrk -t1 -c$conns -d${secs}s --latency URL\`; knload: \`knload ${KNLOAD_ARGS:+$KNLOAD_ARGS }-c$conns -z${secs}s --no-progress URL\` (one connection-loop thread against a loopback target on this machine)."
  echo "Quiet: no neighbour started by the script (whatever else the machine runs shows in the load average); nginx's one worker takes a whole core and caps both tools alike. Quiet-2w: the same with two nginx workers, which together can take more CPU than the client leaves them, so a client that costs less per request leaves the server more and gets more through. Busy: the same pairs beside one CPU-bound neighbour process (a shell busy loop started and stopped by the script), the case the goal is judged on. Busy-2: beside one busy loop per core."
  echo "CPU is user+sys of the client process per request; nginx CPU is its workers' user+sys over the run, in cores; switches are the client's voluntary context switches per request; memory is peak RSS. Pairs alternate wrk, knload; ratios are per pair."
  echo
  echo "| case | pairs | wrk req/s (median) | knload req/s (median) | knload/wrk throughput, median (min–max) | wrk CPU µs/req | knload CPU µs/req | knload/wrk CPU per request, median (min–max) | nginx CPU in cores, median (wrk / knload runs) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "$summary"
  echo
  echo "The goal is at least wrk's throughput at no more than wrk's CPU per request. The interval is a distribution-free confidence interval for the median per-pair ratio (order statistics of the sorted ratios, coverage in brackets, at least 95 %); a verdict names a difference only when the whole interval lies on one side of 1."
  echo
  echo "| case | pairs | knload/wrk throughput: median (interval, coverage) | verdict | knload/wrk CPU per request: median (interval, coverage) | verdict |"
  echo "|---|---|---|---|---|---|"
  echo "$verdict"
  echo
  echo "| case | round | tool | requests | req/s | client CPU µs/req | nginx CPU (cores) | client switches/req | peak RSS MiB | p50 |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| case | round | knload/wrk throughput | knload/wrk CPU per request |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ratios[@]}"
  echo
  echo "Syscalls per request (\`strace -c -f\`, \`wrk -t1 -c$conns -d${secs}s\` and \`knload -c$conns -z${secs}s\` on the machine as it is; the event loop's calls, and all calls including start-up)."
  echo
  echo "| tool | requests | per request | all syscalls per request |"
  echo "|---|---|---|---|"
  echo "$sys_lines"
  echo
  echo "User-space instructions per request (callgrind; the difference between a short and a long run of each tool, so start-up cancels out; steadier than CPU time on a shared machine, though how many responses one wake-up finds still moves it by up to a quarter): wrk \`-d2s\` and \`-d6s\`, knload \`-n 20000\` and \`-n 60000\`."
  echo
  echo "| wrk instructions/request | knload instructions/request | knload/wrk |"
  echo "|---|---|---|"
  echo "$instr_line"
  echo
  echo "Open loop: \`knload -c$conns -q 20000 -z${secs}s\` against closed loop on one connection \`knload -c1 -z${secs}s\` (unloaded latency at a similar rate)."
  echo
  echo "| pacing | achieved | latency | sender |"
  echo "|---|---|---|---|"
  echo "$open_line"
  echo
  echo "Memory: \`knload -c$conns -z60s\`."
  echo
  echo "| memory | | |"
  echo "|---|---|---|"
  echo "$mem_line"
} > "${4:-$out/bench.md}"
echo "wrote ${4:-$out/bench.md}"
