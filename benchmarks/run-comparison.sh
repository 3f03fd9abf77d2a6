#!/usr/bin/env bash
# Side-by-side load comparison on loopback: our sample server (null store and Maildir store) against the SmtpServer
# NuGet package 11.1.0 hosted the same way (benchmarks/StartTls.Smtp.PeerHost: null store and .eml-file store), driven
# by benchmarks/StartTls.Smtp.LoadTest. Every case runs against each server in turn, each on a freshly started
# server process, three times; then a markdown table of medians and ratios ours/theirs is printed. See LOAD.md.
#
# Usage: benchmarks/run-comparison.sh [--quick] [--reps N] [--cases "a a-pipe b c d e-plain e-tls f"] [--out DIR] [--peer theirs|kestrel]
#   --quick   each case once, at a tenth of the load (a smoke run)
#   --reps N  repetitions (default 3; 1 with --quick)
#   --cases   a subset of the cases, space- or comma-separated
#   --out DIR where results.jsonl, summary.md and the server logs go (default: a new directory under /tmp)
#   --peer    the other side: theirs (default, SmtpServer 11.1.0) or kestrel (the same server and settings hosted on a
#             Kestrel endpoint: samples/StartTls.Smtp.AspNetCoreSample, Kestrel-only, null store), i.e. our socket
#             transport against Kestrel's
#
# Needs: the .NET SDK, openssl, ss (iproute2). Only 127.0.0.1 is used.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
REPS=
CASES="a a-pipe b c d e-plain e-tls f"
OUT=
PEER=theirs
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --cases) CASES=${2//,/ }; shift ;;
    --out) OUT=$2; shift ;;
    --peer) PEER=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$REPS" ]; then
  if [ $QUICK = 1 ]; then REPS=1; else REPS=3; fi
fi
OUT=${OUT:-$(mktemp -d /tmp/smtp-load.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Servers and load tool run at a raised priority (both sides alike) when allowed, so that other work on a shared
# machine disturbs the measurement less. It does not make a busy machine quiet: see "machine busy before" per run.
NICE=0
if nice -n -10 true 2>/dev/null; then NICE=-10; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

echo "== Building (Release)"
PEER_PROJECT=benchmarks/StartTls.Smtp.PeerHost
if [ "$PEER" = kestrel ]; then PEER_PROJECT=samples/StartTls.Smtp.AspNetCoreSample; elif [ "$PEER" != theirs ]; then echo "unknown peer: $PEER" >&2; exit 2; fi
for project in samples/StartTls.Smtp.Server $PEER_PROJECT benchmarks/StartTls.Smtp.LoadTest; do
  dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly
done
OURS_DLL=$ROOT/samples/StartTls.Smtp.Server/bin/Release/net10.0/StartTls.Smtp.Server.dll
PEER_DLL=$ROOT/benchmarks/StartTls.Smtp.PeerHost/bin/Release/net10.0/StartTls.Smtp.PeerHost.dll
LOAD_DLL=$ROOT/benchmarks/StartTls.Smtp.LoadTest/bin/Release/net10.0/StartTls.Smtp.LoadTest.dll
KESTREL_DLL=$ROOT/samples/StartTls.Smtp.AspNetCoreSample/bin/Release/net10.0/StartTls.Smtp.AspNetCoreSample.dll

echo "== Self-signed ECDSA P-256 certificate for localhost"
TLS=$OUT/tls
mkdir -p "$TLS"
openssl ecparam -name prime256v1 -genkey -noout -out "$TLS/key.pem"
openssl req -x509 -new -key "$TLS/key.pem" -out "$TLS/cert.pem" -days 7 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
openssl pkcs12 -export -in "$TLS/cert.pem" -inkey "$TLS/key.pem" -out "$TLS/cert.pfx" -passout pass:

# Our sample takes --cert/--key since the TLS work; without them the TLS cases of ours are skipped, never faked.
OURS_TLS=1
if ! grep -q -- '--cert' <<<"$(dotnet "$OURS_DLL" --help)"; then
  OURS_TLS=0
  echo "!! the sample server has no --cert flag: the TLS cases (b, d, e-tls) are skipped for ours" >&2
fi

# case -> mode connections messages size store(null|durable) tls(0|1)
case_spec() {
  case "$1" in
    a)       echo "plain 16 500 1024 null 0" ;;
    a-pipe)  echo "pipeline 16 500 1024 null 0" ;;
    b)       echo "starttls 16 500 1024 null 1" ;;
    c)       echo "plain 4 200 102400 null 0" ;;
    d)       echo "tls-per-message 8 100 1024 null 1" ;;
    e-plain) echo "idle 2000 1 1024 null 0" ;;
    e-tls)   echo "idle-tls 2000 1 1024 null 1" ;;
    f)       echo "plain 16 500 1024 durable 0" ;;
    *) echo "unknown case $1" >&2; return 1 ;;
  esac
}

PORT=26100
SERVER_PID=
start_server() { # side store
  local side=$1 store=$2 log
  PORT=$((PORT + 1))
  log=$OUT/server-$side-$PORT.log
  if [ "$side" = ours ]; then
    local args=(--listen "127.0.0.1:$PORT" --log-level Warning)
    if [ "$store" = durable ]; then args+=(--store maildir --maildir "$OUT/maildir-$PORT"); else args+=(--store null); fi
    if [ $OURS_TLS = 1 ]; then args+=(--cert "$TLS/cert.pem" --key "$TLS/key.pem"); fi
    # The defaults allow 1000 connections and 20 per IP; the load comes from one loopback address.
    # Idle TLS sessions release their OpenSSL record buffers (opt-in since 0.1.0: Tls:ReleaseIdleBuffers).
    Smtp__MaxConnections=5000 Smtp__MaxConnectionsPerIp=0 Smtp__Tls__ReleaseIdleBuffers=true nice -n $NICE dotnet "$OURS_DLL" "${args[@]}" >"$log" 2>&1 &
  elif [ "$side" = kestrel ]; then
    # The same server, options and store as "ours", on a Kestrel endpoint instead of its own socket listener. The
    # working directory is the content root: the sample's appsettings.json is not loaded, only these settings.
    local args=(--Kestrel:Endpoints:Smtp:Url="http://127.0.0.1:$PORT" --Logging:LogLevel:Default=Warning)
    if [ "$store" = durable ]; then args+=(--Maildir:Path="$OUT/maildir-$PORT"); else args+=(--Store=null); fi
    args+=(--Smtp:Tls:CertificatePath="$TLS/cert.pem" --Smtp:Tls:KeyPath="$TLS/key.pem")
    (cd "$OUT" && Smtp__MaxConnections=5000 Smtp__MaxConnectionsPerIp=0 Smtp__Tls__ReleaseIdleBuffers=true exec nice -n $NICE dotnet "$KESTREL_DLL" "${args[@]}") >"$log" 2>&1 &
  else
    local args=(--port "$PORT" --cert "$TLS/cert.pfx" --tls-protocols tls12,tls13)
    if [ "$store" = durable ]; then args+=(--store eml --dir "$OUT/eml-$PORT"); else args+=(--store null); fi
    nice -n $NICE dotnet "$PEER_DLL" "${args[@]}" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if grep -q LISTEN <<<"$(ss -Hltn "sport = :$PORT")"; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "!! the $side server did not start on port $PORT; its log:" >&2
  cat "$log" >&2
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 400); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  # Set aside, deleted at the end: on ext4, creating files soon after deleting thousands scans the freed inodes,
  # which slowed whichever server ran next by up to 10x in system time.
  mkdir -p "$OUT/trash"
  mv "$OUT/maildir-$PORT" "$OUT/eml-$PORT" "$OUT/trash/" 2>/dev/null || true
}

busy_percent() { # the machine's busy CPU share over one second, before a run (other load skews results)
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local total=0 idle=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true' EXIT

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(free -g | awk '/^Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
  echo ".NET: $(dotnet --version); nice: $NICE; load average before: $(cut -d' ' -f1-3 /proc/loadavg); mode: $([ $QUICK = 1 ] && echo quick || echo full), $REPS repetition(s); cases: $CASES"
} | tee "$OUT/machine.txt"

for rep in $(seq 1 "$REPS"); do
  for case in $CASES; do
    read -r mode connections messages size store tls <<<"$(case_spec "$case")"
    warmup_seconds=5
    if [ $QUICK = 1 ]; then
      warmup_seconds=2
      if [ "$mode" = idle ] || [ "$mode" = idle-tls ]; then connections=$((connections / 10)); else messages=$(( messages / 10 > 5 ? messages / 10 : 5 )); fi
    fi
    # Alternate which server goes first, so slow drifts of the machine hit both sides alike.
    if [ $((rep % 2)) = 1 ]; then sides="ours $PEER"; else sides="$PEER ours"; fi
    for side in $sides; do
      if [ "$side" = ours ] && [ "$tls" = 1 ] && [ $OURS_TLS = 0 ]; then
        echo "-- rep $rep case $case ours: SKIPPED (no TLS flags in the sample server)"
        continue
      fi
      start_server "$side" "$store"
      busy=$(busy_percent)
      echo "-- rep $rep case $case $side (port $PORT, pid $SERVER_PID, machine busy before: $busy%)"
      set +e
      nice -n $NICE dotnet "$LOAD_DLL" --host 127.0.0.1 --port "$PORT" --mode "$mode" --connections "$connections" \
        --messages "$messages" --size "$size" --server-pid "$SERVER_PID" --duration-limit 300 --warmup-seconds "$warmup_seconds" \
        --label "case=$case" --label "server=$side" --label "rep=$rep" --label "busy_before=$busy" \
        --output "$RESULTS" | head -1
      set -e
      stop_server
    done
  done
done

echo
echo "== Medians over $REPS run(s) per case and server (ours = StartTls.Smtp sample, $PEER = $([ "$PEER" = kestrel ] && echo 'the same server on a Kestrel endpoint' || echo 'SmtpServer 11.1.0'))"
cat "$OUT/machine.txt"
echo
dotnet "$LOAD_DLL" summarize "$RESULTS" --peer "$PEER" | tee "$OUT/summary.md"
rm -rf "$OUT/trash"
echo
echo "results: $RESULTS"
