#!/usr/bin/env bash
# Benchmark: `opsctl ps` (built) against procps `ps`, side by side with hyperfine, with 1,000 extra
# sleeping processes on the host. CPU sampling is off for the comparison (ps does not sample).
# Usage: npm run bench:ps   (EXTRA=2000 RUNS=100 to change the load or the run count)
set -euo pipefail
cd "$(dirname "$0")/../.."

EXTRA=${EXTRA:-1000}
RUNS=${RUNS:-50}
NODE=node_modules/.bin/node
OUT=.bench
mkdir -p "$OUT"

if ! command -v hyperfine >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine
fi
"$NODE" scripts/build.ts >/dev/null

pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq "$EXTRA"); do sleep 3600 & pids+=($!); done
sleep 1
count=$(ls /proc | grep -c '^[0-9]')
echo "processes on the host: $count ($EXTRA extra sleepers), $(nproc) CPUs, $("$NODE" --version), $(ps --version)"

# Warm the compile cache once, as a second run of any installed CLI would find it.
"$NODE" bin/opsctl.js ps --no-sample >/dev/null

hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$OUT/ps.md" --export-json "$OUT/ps.json" \
  -n 'ps -eo pid,ppid,user,pcpu,rss,comm' 'ps -eo pid,ppid,user,pcpu,rss,comm' \
  -n 'opsctl ps -o pid,ppid,user,cpu,rss,name --no-sample' "$NODE bin/opsctl.js ps -o pid,ppid,user,cpu,rss,name --no-sample" \
  -n 'ps aux' 'ps aux' \
  -n 'opsctl ps --no-sample (default columns, full command lines)' "$NODE bin/opsctl.js ps --no-sample" \
  -n 'opsctl ps --json --no-sample (every field)' "$NODE bin/opsctl.js ps --json --no-sample"

echo
cat "$OUT/ps.md"
