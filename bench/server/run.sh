#!/usr/bin/env bash
# Benchmark: authenticated GET /api/v1/nodes?limit=1000 on `opsctl server` (SQLite store seeded
# with 1,000 linked nodes) against a plain fastify route returning the same JSON (the ceiling),
# same load (wrk, 50 connections), one after the other in one run.
# Usage: bash bench/server/run.sh   (DURATION=20 CONNECTIONS=50 NODES=1000 to change)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-50}
NODES=${NODES:-1000}
NODE=node_modules/.bin/node
# shellcheck source=../lib.sh
source bench/lib.sh
ensure_commands wrk:wrk curl:curl
hz=$(getconf CLK_TCK)

mkdir -p "$work/data"
"$NODE" bench/server/seed.ts "$work/data/store.db" "$NODES"
port=$(free_port)
printf '[log]\nlevel = "warn"\n[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s/data"\n[server.rate_limit]\nrate = 1000000\nburst = 1000000\n' "$port" "$work" > "$work/opsctl.toml"
"$NODE" --max-semi-space-size=8 src/cli.ts server --config "$work/opsctl.toml" 2>"$work/server.log" & server=$!; pids+=($server)
wait_http "http://127.0.0.1:$port/readyz"
token=$("$NODE" src/cli.ts server token create --config "$work/opsctl.toml" --sub bench --scope ops:read --ttl 1h)
url="http://127.0.0.1:$port/api/v1/nodes?limit=1000"
curl -sf -H "Authorization: Bearer $token" "$url" > "$work/body.json"
items=$("$NODE" -e "console.log(JSON.parse(require('fs').readFileSync('$work/body.json','utf8')).items.length)")

run() { # run NAME URL PID [HEADER]
  local name=$1 u=$2 pid=$3 before after out
  before=$(cpu_ticks "$pid")
  if [ $# -ge 4 ]; then out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$4" "$u"); else out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$u"); fi
  after=$(cpu_ticks "$pid")
  local rps p99 cpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  cpu=$(awk -v a="$after" -v b="$before" -v hz="$hz" -v d="$DURATION" 'BEGIN {printf "%.0f", (a - b) / hz / d * 100}')
  printf '| %s | %s | %s | %s%% | %s MiB |\n' "$name" "$rps" "$p99" "$cpu" "$(( $(peak_rss_kib "$pid") / 1024 ))"
}

cport=$(free_port)
"$NODE" bench/server/ceiling.ts "$cport" "$work/body.json" & ceiling=$!; pids+=($ceiling)
wait_http "http://127.0.0.1:$cport/api/v1/nodes"

echo "host: $(nproc) CPUs, $("$NODE" --version), wrk -c$CONNECTIONS -d${DURATION}s, $items nodes per answer ($(wc -c < "$work/body.json") bytes)"
echo '| what | requests/s | p99 | CPU | peak RSS |'
echo '| --- | --- | --- | --- | --- |'
run 'opsctl server, GET /api/v1/nodes (JWT, rate limit, SQLite)' "$url" "$server" "Authorization: Bearer $token"
run 'plain fastify route, same JSON (ceiling)' "http://127.0.0.1:$cport/api/v1/nodes" "$ceiling"
