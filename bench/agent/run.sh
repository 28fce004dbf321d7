#!/usr/bin/env bash
# Benchmark: `opsctl agent` (built) against Debian's prometheus-node-exporter, one after the other
# in one run: node_exporter with its default collectors, node_exporter restricted to the collectors
# opsctl implements (like for like), then opsctl agent. Each gets 10 warm-up scrapes, a 2 s settle
# (idle RSS), then 200 sequential scrapes of /metrics (median/p99 latency, CPU per scrape from
# utime+stime in /proc/PID/stat, peak RSS = VmHWM), timed by bench/agent/scrape.ts.
# Usage: npm run bench:agent   (WARMUP=10 SCRAPES=200 to change)
set -euo pipefail
cd "$(dirname "$0")/../.."

WARMUP=${WARMUP:-10}
SCRAPES=${SCRAPES:-200}
NODE=node_modules/.bin/node
OUT=.bench
mkdir -p "$OUT"
# shellcheck source=../lib.sh
source bench/lib.sh
ensure_commands prometheus-node-exporter:prometheus-node-exporter curl:curl
"$NODE" scripts/build.ts >/dev/null


# The collectors opsctl agent implements, by node_exporter's flag names.
SAME=(cpu meminfo loadavg stat vmstat netdev filesystem diskstats uname time pressure os textfile)
same_flags=(--collector.disable-defaults)
for c in "${SAME[@]}"; do same_flags+=("--collector.$c"); done
textfile_dir="$work/textfile"
mkdir -p "$textfile_dir"

echo "host: $(nproc) CPUs, $(uname -r), $("$NODE" --version), $(prometheus-node-exporter --version 2>&1 | head -1), $("$NODE" bin/opsctl.js version | head -1)"
results="$OUT/agent.md"
{
  echo "| exporter | median ms | p99 ms | CPU ms/scrape | body bytes | series | idle RSS MiB | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} > "$results"

run_one() { # name -- command...
  local name=$1; shift 2
  local port; port=$(free_port)
  "$@" "$port" >"$work/exporter.log" 2>&1 & local pid=$!; pids+=($pid)
  wait_http "http://127.0.0.1:$port/metrics" || { cat "$work/exporter.log" >&2; return 1; }
  "$NODE" bench/agent/scrape.ts "$name" "http://127.0.0.1:$port/metrics" "$pid" "$WARMUP" "$SCRAPES" >> "$results"
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  tail -1 "$results"
}
node_exporter_default() { exec prometheus-node-exporter --web.listen-address="127.0.0.1:$1" --log.level=error; }
node_exporter_same() {
  exec prometheus-node-exporter "${same_flags[@]}" --collector.textfile.directory="$textfile_dir" \
    --web.listen-address="127.0.0.1:$1" --log.level=error
}
opsctl_agent() {
  exec "$NODE" bin/opsctl.js --log-level warn agent --collector.textfile.directory "$textfile_dir" --listen "127.0.0.1:$1"
}

run_one "node_exporter (defaults)" -- node_exporter_default
run_one "node_exporter (opsctl's collectors)" -- node_exporter_same
run_one "opsctl agent" -- opsctl_agent
echo
cat "$results"
