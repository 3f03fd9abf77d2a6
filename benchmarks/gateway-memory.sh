#!/usr/bin/env bash
# Gateway memory: the peak RSS of the gateway sample while it relays large messages to the sample server.
# Usage: benchmarks/gateway-memory.sh [GATEWAY_DLL] [CLIENTS] [MESSAGE_MIB] [ROUNDS]
#   GATEWAY_DLL  default: samples/StartTls.Smtp.Gateway/bin/Release/net10.0/StartTls.Smtp.Gateway.dll (build it with
#                dotnet build samples/StartTls.Smtp.Gateway -c Release); pass another build's DLL to compare.
#   CLIENTS      concurrent SMTP clients (python3 smtplib), default 4; MESSAGE_MIB per message, default 20;
#   ROUNDS       messages per client, default 2.
# Loopback only; everything lives in a temp folder that is removed at the end. Prints one line with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."

gateway_dll=${1:-samples/StartTls.Smtp.Gateway/bin/Release/net10.0/StartTls.Smtp.Gateway.dll}
clients=${2:-4}
mib=${3:-20}
rounds=${4:-2}
server_dll=samples/StartTls.Smtp.Server/bin/Release/net10.0/StartTls.Smtp.Server.dll
[[ -f "$gateway_dll" && -f "$server_dll" ]] || {
    echo "build first: dotnet build samples/StartTls.Smtp.Gateway -c Release && dotnet build samples/StartTls.Smtp.Server -c Release" >&2
    exit 2
}
gateway_dll=$(realpath "$gateway_dll")
server_dll=$(realpath "$server_dll")

work=$(mktemp -d -t starttls-gwmem.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
    for _ in $(seq 1 300); do
        if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    return 1
}

upstream_port=$(free_port)
gateway_port=$(free_port)
mkdir -p "$work/run-upstream" "$work/run-gateway" "$work/spool"
(cd "$work/run-upstream" && exec dotnet "$server_dll" --listen "127.0.0.1:$upstream_port" --maildir "$work/mail" \
    --max-message-size $(((mib + 2) * 1048576))) >"$work/upstream.log" 2>&1 &
pids+=($!)
# Only a build that knows --spool gets it (an older build is measured as it was).
spool=()
if grep -q -- '--spool' <<<"$(dotnet "$gateway_dll" --help)"; then spool=(--spool "$work/spool"); fi
(cd "$work/run-gateway" && exec dotnet "$gateway_dll" --listen "127.0.0.1:$gateway_port" \
    --upstream "127.0.0.1:$upstream_port" --upstream-tls none --relay-domain example.com --hostname gw.test "${spool[@]}") \
    >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
wait_port "$upstream_port"
wait_port "$gateway_port"
idle_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$gateway_pid/status")

start=$(date +%s.%N)
python3 - "$gateway_port" "$clients" "$mib" "$rounds" <<'PY'
import smtplib, sys, threading
port, clients, mib, rounds = (int(a) for a in sys.argv[1:5])
line = b"x" * 76 + b"\r\n"
body = b"From: a@sender.test\r\nTo: b@example.com\r\nSubject: large\r\n\r\n" + line * (mib * 1048576 // len(line))
errors = []
def send():
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=300) as smtp:
            for _ in range(rounds):
                smtp.sendmail("a@sender.test", ["b@example.com"], body)
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=send) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit("send failed: " + "; ".join(errors))
PY
elapsed=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$start")
peak_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$gateway_pid/status")
stored=$(find "$work/mail/new" -type f | wc -l)
left=$(find "$work/spool" -type f | wc -l)
echo "$gateway_dll: $clients clients x $rounds x $mib MiB," \
    "idle RSS $((idle_kib / 1024)) MiB, peak RSS $((peak_kib / 1024)) MiB, $stored stored upstream, $left spool files left, ${elapsed}s"
