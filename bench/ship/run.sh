#!/usr/bin/env bash
# Benchmark: `opsctl ship` against Debian's rsyslog (imfile -> omfwd) and syslog-ng (file -> network
# / http), one after the other in one run. Each case tails the same LINES-line nginx access log
# (bench/ship/gen.ts, ~160 MB) from its first line, with its checkpoint / state file on, into
# bench/ship/receiver.ts (TCP or HTTP), which checks that every sequence number arrived.
# Per case: wall time from the shipper's start to the last line received, lines/s, MB/s (file bytes
# / wall, MB = 10^6 bytes), peak RSS (VmHWM), CPU seconds (utime + stime), lines missing / duplicated.
# Cases ending in -50m run the shipper in a cgroup v1 memory cgroup limited to 50 MB (needs root).
# Usage: bash bench/ship/run.sh [CASE|GLOB|SHIPPER...]   (default: every case; e.g. `opsctl`,
#        `syslog-ng-tcp`, '*-50m', 'opsctl-tcp-*'; `bash bench/ship/run.sh list` prints the cases)
#        LINES=1000000 TIMEOUT=300 (seconds per case) to change; ROUNDS=3 runs the selection 3 times
#        (interleaved, one row each); OPSCTL_NODE_FLAGS="--max-old-space-size=20" passes flags to
#        opsctl's node only (NODE_OPTIONS would reach the build and the receiver too); its default
#        is --max-semi-space-size=8, the flag bin/opsctl.js's shebang gives an installed opsctl;
#        OPSCTL_SINK_EXTRA='batch = { max_events = 5000 }' adds TOML lines to opsctl's [sinks.out].
set -euo pipefail
cd "$(dirname "$0")/../.."

LINES=${LINES:-1000000}
TIMEOUT=${TIMEOUT:-300}
ROUNDS=${ROUNDS:-1}
OPSCTL_NODE_FLAGS=${OPSCTL_NODE_FLAGS---max-semi-space-size=8}   # default: bin/opsctl.js's shebang flags
OPSCTL_SINK_EXTRA=${OPSCTL_SINK_EXTRA:-}
NODE=node_modules/.bin/node
OUT=.bench
CONFIGS=$PWD/bench/ship/configs
mkdir -p "$OUT"

# id | shipper | output | memory limit — the order they run in.
CASES=(
  "rsyslog-tcp|rsyslog|tcp|"
  "rsyslog-http|rsyslog|http|"
  "syslog-ng-tcp|syslog-ng|tcp|"
  "syslog-ng-http|syslog-ng|http|"
  "opsctl-tcp-text|opsctl|tcp|"
  "opsctl-tcp-json|opsctl|tcp|"
  "opsctl-http|opsctl|http|"
  "rsyslog-tcp-parse|rsyslog|tcp|"
  "syslog-ng-tcp-parse|syslog-ng|tcp|"
  "opsctl-tcp-text-parse|opsctl|tcp|"
  "opsctl-tcp-json-parse|opsctl|tcp|"
  "opsctl-http-parse|opsctl|http|"
  "rsyslog-tcp-50m|rsyslog|tcp|50M"
  "syslog-ng-tcp-50m|syslog-ng|tcp|50M"
  "opsctl-tcp-text-50m|opsctl|tcp|50M"
  "opsctl-tcp-json-parse-50m|opsctl|tcp|50M"
  "opsctl-http-50m|opsctl|http|50M"
)
if [ "${1:-}" = list ]; then printf '%s\n' "${CASES[@]%%|*}"; exit 0; fi
selected() { # id shipper: true if no arguments, or one is the id, a glob of it, or the shipper
  [ ${#ARGS[@]} -eq 0 ] && return 0
  local a
  for a in "${ARGS[@]}"; do
    # shellcheck disable=SC2053 # $a is meant as a glob
    [[ $1 == $a || $2 == "$a" ]] && return 0
  done
  return 1
}
ARGS=("$@")

# shellcheck source=../lib.sh
source bench/lib.sh
cgroups=()
remove_cgroups() {
  local c
  for c in "${cgroups[@]}"; do
    [ -d "$c" ] || continue
    for _ in $(seq 50); do rmdir "$c" 2>/dev/null && break; sleep 0.1; done
  done
}
trap 'cleanup; remove_cgroups' EXIT

need_rsyslog=no need_syslog_ng=no need_opsctl=no
for c in "${CASES[@]}"; do
  id=${c%%|*}; rest=${c#*|}; tool=${rest%%|*}
  selected "$id" "$tool" || continue
  case $tool in rsyslog) need_rsyslog=yes ;; syslog-ng) need_syslog_ng=yes ;; opsctl) need_opsctl=yes ;; esac
done

ensure_packages() { # PACKAGE... — apt-get installs those not installed
  local need=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}
# rsyslog conflicts with syslog-ng-core in apt: its .deb is unpacked under .bench/rsyslog instead
# (its libraries do not conflict and are installed).
RSYSLOG_ROOT=$PWD/$OUT/rsyslog
if [ $need_rsyslog = yes ]; then
  ensure_packages libestr0 libfastjson4 liblognorm5 libzstd1 zlib1g
  if [ ! -x "$RSYSLOG_ROOT/usr/sbin/rsyslogd" ]; then
    (cd "$work" && apt-get download rsyslog >/dev/null 2>&1 && dpkg -x rsyslog_*.deb "$RSYSLOG_ROOT" && rm rsyslog_*.deb)
  fi
fi
[ $need_syslog_ng = yes ] && ensure_packages syslog-ng-core syslog-ng-mod-http syslog-ng-scl
[ $need_opsctl = yes ] && "$NODE" scripts/build.ts >/dev/null

hz=$(getconf CLK_TCK)
"$NODE" bench/ship/gen.ts "$work/access.log" "$LINES" >/dev/null
bytes=$(stat -c %s "$work/access.log")

versions="$(nproc) CPUs, $(uname -r), Node $("$NODE" --version)"
[ $need_rsyslog = yes ] && versions+=", $("$RSYSLOG_ROOT/usr/sbin/rsyslogd" -v | head -1 | awk '{print $1, $2}')"
[ $need_syslog_ng = yes ] && versions+=", $(syslog-ng --version | head -1)"
[ $need_opsctl = yes ] && versions+=", $("$NODE" bin/opsctl.js version 2>/dev/null | head -1)"
echo "host: $versions; input: $LINES lines, $bytes bytes"
results="$OUT/ship.md"
{
  echo "| case | shipper | output | wall s | lines/s | MB/s | peak RSS MiB | CPU s | all arrived | notes |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---|---|"
} > "$results"

# --- how each shipper is configured and started: prep_* sets `cmd` for the case dir $dir ---------

fill() { # TEMPLATE OUT — the config with @WORK@, @CASE@, @PORT@, @URL@, @CONFIGS@, @QUEUE@ filled in
  sed -e "s#@WORK@#$work#g" -e "s#@CASE@#$dir#g" -e "s#@PORT@#$tcp_port#g" -e "s#@QUEUE@#$queue#g" \
    -e "s#@URL@#http://127.0.0.1:$http_port/ingest#g" -e "s#@CONFIGS@#$CONFIGS#g" "$1" > "$2"
}
prep_rsyslog() { # variant: "" or parse
  mkdir -p "$dir/rsyslog-state"
  fill "$CONFIGS/rsyslog${1:+-$1}.conf" "$dir/rsyslog.conf"
  cmd=("$RSYSLOG_ROOT/usr/sbin/rsyslogd" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid"
    -M "$RSYSLOG_ROOT/usr/lib/x86_64-linux-gnu/rsyslog")
}
prep_syslog_ng() { # variant: "", http or parse
  fill "$CONFIGS/syslog-ng${1:+-$1}.conf" "$dir/syslog-ng.conf"
  cmd=(syslog-ng -F -f "$dir/syslog-ng.conf" --no-caps -R "$dir/syslog-ng.persist"
    -p "$dir/syslog-ng.pid" -c "$dir/syslog-ng.ctl")
}
prep_opsctl() { # output (tcp|http), encoding (text|json; http is always ndjson), parse (yes|no)
  local input=app
  {
    echo "data_dir = \"$dir/opsctl-data\""
    echo 'listen = "127.0.0.1:0"'
    echo '[sources.app]'
    echo 'type = "file"'
    echo "include = [\"$work/access.log\"]"
    echo 'read_from = "beginning"'
    if [ "$3" = yes ]; then
      input=parse
      printf '[transforms.parse]\ntype = "parse"\ninputs = ["app"]\nformat = "nginx"\n'
    fi
    echo '[sinks.out]'
    if [ "$1" = tcp ]; then
      printf 'type = "tcp"\ninputs = ["%s"]\naddress = "127.0.0.1:%s"\nencoding = "%s"\n' "$input" "$tcp_port" "$2"
    else
      printf 'type = "http"\ninputs = ["%s"]\nurl = "http://127.0.0.1:%s/ingest"\nencoding = "ndjson"\n' "$input" "$http_port"
    fi
    [ -z "$OPSCTL_SINK_EXTRA" ] || printf '%b\n' "$OPSCTL_SINK_EXTRA"
  } > "$dir/opsctl.toml"
  # shellcheck disable=SC2086 # OPSCTL_NODE_FLAGS is a list of flags
  cmd=("$NODE" $OPSCTL_NODE_FLAGS bin/opsctl.js --log-level warn ship --config "$dir/opsctl.toml")
}
prep_case() { # id
  case $1 in
    rsyslog-tcp | rsyslog-tcp-50m) prep_rsyslog "" ;;
    rsyslog-tcp-parse) prep_rsyslog parse ;;
    syslog-ng-tcp | syslog-ng-tcp-50m) prep_syslog_ng "" ;;
    syslog-ng-http) prep_syslog_ng http ;;
    syslog-ng-tcp-parse) prep_syslog_ng parse ;;
    opsctl-tcp-text | opsctl-tcp-text-50m) prep_opsctl tcp text no ;;
    opsctl-tcp-json) prep_opsctl tcp json no ;;
    opsctl-http | opsctl-http-50m) prep_opsctl http ndjson no ;;
    opsctl-tcp-text-parse) prep_opsctl tcp text yes ;;
    opsctl-tcp-json-parse | opsctl-tcp-json-parse-50m) prep_opsctl tcp json yes ;;
    opsctl-http-parse) prep_opsctl http ndjson yes ;;
    *) return 1 ;;
  esac
}

# --- one case -------------------------------------------------------------------------------------

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }
now_ms() { date +%s%3N; }
forget() { # PID... — drop reaped children from lib.sh's list, so its cleanup cannot hit a reused pid
  local keep=() p q
  for p in "${pids[@]}"; do
    for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
    keep+=("$p")
  done
  pids=("${keep[@]}")
}

run_case() { # id shipper output limit
  local id=$1 tool=$2 output=$3 limit=$4
  dir="$work/$id.$round"
  mkdir -p "$dir"
  if [ "$id" = rsyslog-http ]; then
    echo "| $id | $tool | $output | n/a | | | | | | rsyslog's omhttp is not packaged by Debian 12 (apt-cache search rsyslog) |" >> "$results"
    tail -1 "$results"
    return 0
  fi
  "$NODE" bench/ship/receiver.ts "$LINES" > "$dir/receiver.out" 2> "$dir/receiver.err" &
  local rpid=$!
  pids+=("$rpid")
  for _ in $(seq 100); do [ -s "$dir/receiver.out" ] && break; sleep 0.1; done
  local ports; ports=$(head -1 "$dir/receiver.out")
  tcp_port=$(json_num tcp "$ports")
  http_port=$(json_num http "$ports")
  [ -n "$tcp_port" ] && [ -n "$http_port" ] || { echo "receiver not up" >&2; cat "$dir/receiver.err" >&2; return 1; }
  # The peers' queues: 100,000 messages (tuned for speed), 10,000 under the 50 MB limit.
  queue=100000
  [ -n "$limit" ] && queue=10000
  prep_case "$id"

  local cg=""
  if [ -n "$limit" ]; then
    cg=/sys/fs/cgroup/memory/opsctl-bench-ship-$$-$id-$round
    mkdir "$cg"
    cgroups+=("$cg")
    echo "$limit" > "$cg/memory.limit_in_bytes"
  fi
  local t0; t0=$(now_ms)
  # The subshell joins the cgroup first, then becomes the shipper (exec), so $spid is the shipper.
  (
    [ -n "$cg" ] && echo "$BASHPID" > "$cg/cgroup.procs"
    exec "${cmd[@]}"
  ) > "$dir/shipper.log" 2>&1 &
  local spid=$!
  pids+=("$spid")

  local state=complete cpu="" peak=""
  while alive "$rpid"; do
    if ! alive "$spid"; then state=exited; break; fi
    if [ $(($(now_ms) - t0)) -gt $((TIMEOUT * 1000)) ]; then state=timeout; break; fi
    sleep 0.05
  done
  if alive "$spid"; then
    cpu=$(awk -v t="$(cpu_ticks "$spid")" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
    peak=$(awk -v k="$(peak_rss_kib "$spid")" 'BEGIN {printf "%.1f", k / 1024}')
    kill "$spid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$spid" || break; sleep 0.1; done
    kill -9 "$spid" 2>/dev/null || true
  fi
  local rc=0
  wait "$spid" 2>/dev/null || rc=$?
  if alive "$rpid"; then kill "$rpid" 2>/dev/null || true; fi
  wait "$rpid" 2>/dev/null || true
  forget "$spid" "$rpid"
  local summary; summary=$(tail -1 "$dir/receiver.out")

  local notes=""
  [ "$state" = exited ] && notes+="shipper exited early (status $rc); "
  [ "$state" = timeout ] && notes+="not complete after ${TIMEOUT}s; "
  if [ -n "$cg" ]; then
    local ooms; ooms=$(awk '$1 == "oom_kill" {print $2}' "$cg/memory.oom_control")
    local maxu; maxu=$(awk '{printf "%.1f", $1 / 1048576}' "$cg/memory.max_usage_in_bytes")
    notes+="cgroup limit $limit: max usage ${maxu} MiB (with page cache), oom_kill ${ooms:-?}; "
    for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
  fi
  local d missing dups other last
  d=$(json_num distinct "$summary"); missing=$(json_num missing "$summary"); dups=$(json_num duplicates "$summary")
  other=$(json_num other "$summary"); last=$(json_num last_ms "$summary")
  [ "${other:-0}" != 0 ] && notes+="$other lines without a sequence number; "
  local rcpu; rcpu=$(json_num cpu_ms "$summary")
  [ -n "$rcpu" ] && notes+="receiver $(awk -v m="$rcpu" 'BEGIN {printf "%.1f", m / 1000}') CPU s; "
  local arrived="yes"
  [ "${missing:-1}" != 0 ] && arrived="no: ${missing:-?} missing"
  [ "${dups:-0}" != 0 ] && arrived+=" (${dups} duplicates)"
  local wall="" lps="" mbs=""
  if [ "$state" = complete ] && [ "${last:-0}" != 0 ]; then
    wall=$(awk -v a="$t0" -v b="$last" 'BEGIN {printf "%.2f", (b - a) / 1000}')
    lps=$(awk -v w="$wall" -v n="$d" 'BEGIN {printf "%.0f", n / w}')
    mbs=$(awk -v w="$wall" -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6 / w}')
  fi
  echo "| $id | $tool | $output | $wall | $lps | $mbs | $peak | $cpu | $arrived | ${notes%; } |" >> "$results"
  tail -1 "$results"
  if [ "$state" != complete ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; }; then
    echo "--- $id: shipper output (last 20 lines)" >&2
    tail -20 "$dir/shipper.log" >&2
  fi
}

for round in $(seq "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS"
  for c in "${CASES[@]}"; do
    IFS='|' read -r id tool output limit <<<"$c"
    selected "$id" "$tool" || continue
    run_case "$id" "$tool" "$output" "$limit"
  done
done
echo
cat "$results"
