#!/usr/bin/env bash
# Benchmark: `opsctl probe serve` /probe against Debian's prometheus-blackbox-exporter, same local
# nginx target, same load (wrk, 50 connections), one after the other in one run. Then opsctl's
# scheduled mode with 10,000 targets at a 30 s interval.
# Usage: npm run bench:probe   (DURATION=20 CONNECTIONS=50 TARGETS=10000 SCHEDULED_SECONDS=75 to change)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-50}
TARGETS=${TARGETS:-10000}
SCHEDULED_SECONDS=${SCHEDULED_SECONDS:-75}
NODE=node_modules/.bin/node
OUT=.bench
mkdir -p "$OUT"
# shellcheck source=../lib.sh
source bench/lib.sh
ensure_commands prometheus-blackbox-exporter:prometheus-blackbox-exporter nginx:nginx-light wrk:wrk curl:curl
"$NODE" scripts/build.ts >/dev/null

hz=$(getconf CLK_TCK)

# The target: nginx answering 200 "ok" on loopback.
tport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:$tport; location / { return 200 "ok\n"; } }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
wait_http "http://127.0.0.1:$tport/"
target="http://127.0.0.1:$tport/"

# blackbox_exporter
bport=$(free_port)
cat > "$work/blackbox.yml" <<YML
modules:
  http_2xx:
    prober: http
    timeout: 5s
YML
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bport" --log.level=error >"$work/blackbox.log" 2>&1 & bpid=$!; pids+=($bpid)

# opsctl probe serve (built), same module
oport=$(free_port)
cat > "$work/probes.toml" <<TOML
listen = "127.0.0.1:$oport"
[modules.http_2xx]
prober = "http"
timeout = "5s"
TOML
"$NODE" bin/opsctl.js --log-level warn probe serve --config "$work/probes.toml" >"$work/opsctl.log" 2>&1 & opid=$!; pids+=($opid)
wait_http "http://127.0.0.1:$bport/-/healthy"
wait_http "http://127.0.0.1:$oport/healthz"

echo "host: $(nproc) CPUs, $("$NODE" --version), $(prometheus-blackbox-exporter --version 2>&1 | head -1), wrk -c$CONNECTIONS -d${DURATION}s"
results="$OUT/probe.md"
{
  echo "| exporter | probes/s | p50 ms | p99 ms | CPU ms/probe | peak RSS MiB | non-2xx or errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} > "$results"

measure() { # name pid url
  local name=$1 pid=$2 url=$3
  curl -sf "$url" | grep -q '^probe_success 1' || { echo "$name: first probe failed" >&2; curl -s "$url" >&2; return 1; }
  wrk -t2 -c"$CONNECTIONS" -d3s "$url" >/dev/null   # warm-up
  local c0; c0=$(cpu_ticks "$pid")
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" > "$work/$name.wrk"
  local c1; c1=$(cpu_ticks "$pid")
  local rps p50 p99 reqs errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  reqs=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.wrk")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.wrk")
  errs=$(awk '/Non-2xx|Socket errors/ {s = s $0 "; "} END {print (s == "" ? "0" : s)}' "$work/$name.wrk")
  local cpu_ms; cpu_ms=$(awk -v a="$c0" -v b="$c1" -v n="$reqs" -v hz="$hz" 'BEGIN {printf "%.3f", (b - a) * 1000 / hz / n}')
  local peak; peak=$(awk -v k="$(peak_rss_kib "$pid")" 'BEGIN {printf "%.1f", k / 1024}')
  echo "| $name | $rps | $(to_ms "$p50") | $(to_ms "$p99") | $cpu_ms | $peak | $errs |" >> "$results"
  cat "$work/$name.wrk"
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else if (v ~ /s$/) printf "%.2f", v * 1000; else print v }'; }

measure blackbox_exporter "$bpid" "http://127.0.0.1:$bport/probe?target=$target&module=http_2xx"
measure "opsctl probe serve" "$opid" "http://127.0.0.1:$oport/probe?target=$target&module=http_2xx"
kill "$bpid" "$opid" 2>/dev/null || true

# Scheduled mode: TARGETS targets every 30 s, spread by jitter; CPU and memory once steady.
sport=$(free_port)
{
  echo "listen = \"127.0.0.1:$sport\""
  echo "concurrency = 200"
  echo '[modules.http_2xx]'
  echo 'prober = "http"'
  echo 'timeout = "5s"'
  for i in $(seq "$TARGETS"); do
    printf '[[targets]]\nname = "t%d"\ntarget = "%s?i=%d"\nmodule = "http_2xx"\ninterval = "30s"\n' "$i" "$target" "$i"
  done
} > "$work/scheduled.toml"
"$NODE" bin/opsctl.js --log-level warn probe serve --config "$work/scheduled.toml" >"$work/scheduled.log" 2>&1 & spid=$!; pids+=($spid)
wait_http "http://127.0.0.1:$sport/healthz"
half=$((SCHEDULED_SECONDS / 2))
sleep "$half"
c0=$(cpu_ticks "$spid"); t0=$(date +%s.%N)
sleep "$((SCHEDULED_SECONDS - half))"
c1=$(cpu_ticks "$spid"); t1=$(date +%s.%N)
ok=$(curl -s "http://127.0.0.1:$sport/metrics" | awk '/^opsctl_probe_results_total\{/ && /result="success"/ {s += $NF} END {print s + 0}')
failed=$(curl -s "http://127.0.0.1:$sport/metrics" | awk '/^opsctl_probe_results_total\{/ && /result="failure"/ {s += $NF} END {print s + 0}')
skipped=$(curl -s "http://127.0.0.1:$sport/metrics" | awk '/^opsctl_probe_skipped_total/ {s += $NF} END {print s + 0}')
{
  echo
  echo "| scheduled mode | targets | interval | CPU % of one core (steady) | RSS MiB | peak RSS MiB | results ok / failed / skipped after ${SCHEDULED_SECONDS}s |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v rss="$(rss_kib "$spid")" -v peak="$(peak_rss_kib "$spid")" \
    -v n="$TARGETS" -v ok="$ok" -v f="$failed" -v s="$skipped" \
    'BEGIN { printf "| opsctl probe serve | %d | 30s | %.1f | %.1f | %.1f | %d / %d / %d |\n", n, (b - a) / hz / (t1 - t0) * 100, rss / 1024, peak / 1024, ok, f, s }'
} >> "$results"
echo
cat "$results"
