#!/usr/bin/env bash
# Native AOT check: publishes samples/StartTls.Smtp.Server as a Native AOT binary (no warning allowed), runs it on a free
# loopback port with a temporary Maildir and one user, delivers one message over STARTTLS with AUTH (swaks), checks the
# message is in new/, and stops the server with SIGTERM, which must exit 0. Runs as root on a fresh Debian machine with
# the .NET 10 SDK (called by .ci/run); locally it needs clang, zlib1g-dev, swaks and python3.
set -euo pipefail

cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

fail() {
    echo "aot-check: FAILED: $*" >&2
    if [[ -n "${work:-}" && -f "$work/server.log" ]]; then
        echo "---- server output ----" >&2
        cat "$work/server.log" >&2
        echo "-----------------------" >&2
    fi
    exit 1
}

# The AOT compiler links with clang against zlib; swaks is the client.
missing=()
command -v clang >/dev/null || missing+=(clang)
[[ -e /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
command -v swaks >/dev/null || missing+=(swaks libnet-ssleay-perl libio-socket-ssl-perl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -ne 0 ]]; then
        fail "missing ${missing[*]} (install them, or run as root to have them installed)"
    fi
    echo "== aot-check: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

work=$(mktemp -d -t starttls-aot.XXXXXX)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== aot-check: publishing samples/StartTls.Smtp.Server with PublishAot=true"
publish_log="$work/publish.log"
if ! dotnet publish samples/StartTls.Smtp.Server -c Release -r linux-x64 -p:PublishAot=true -o "$work/publish" \
    >"$publish_log" 2>&1; then
    cat "$publish_log" >&2
    fail "dotnet publish failed"
fi
# Warnings are errors in the C# build; the AOT compiler's own trim and AOT warnings (IL2xxx, IL3xxx) must not appear either.
if grep -E ': warning [A-Z]+[0-9]+' "$publish_log" >&2; then
    fail "the Native AOT publish has warnings (above)"
fi
binary="$work/publish/StartTls.Smtp.Server"
[[ -x "$binary" ]] || fail "no native binary at $binary"
echo "   native binary: $(du -h "$binary" | cut -f1)"

# A port the kernel just handed out and released: free unless something takes it in the next instant.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
maildir="$work/mail"
token="aot-check-$$-$RANDOM$RANDOM"

echo "== aot-check: starting the native server on 127.0.0.1:$port"
# Its own working directory: the development certificate is written to ./.dev-certs there.
mkdir -p "$work/run"
# Two settings come from the environment, through the source-generated configuration binder: the server name (checked
# in the greeting) and a nested TLS option, the OpenSSL buffer release, whose private-field access then runs natively.
(cd "$work/run" && Smtp__ServerName=aot-check.test Smtp__Tls__ReleaseIdleBuffers=true \
    exec "$binary" --listen "127.0.0.1:$port" --maildir "$maildir" --user alice:secret) >"$work/server.log" 2>&1 &
server_pid=$!

# Waits for the 220 greeting: at most 30 s, polling every 0.1 s.
greeting=""
for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited before greeting"
    if greeting=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r line <&3 && printf "%s" "$line"' _ "$port" 2>/dev/null) \
        && [[ $greeting == 220* ]]; then
        break
    fi
    greeting=""
    sleep 0.1
done
[[ -n "$greeting" ]] || fail "no 220 greeting on 127.0.0.1:$port within 30 s"
echo "   greeting: ${greeting%$'\r'}"
[[ $greeting == "220 aot-check.test "* ]] || fail "the greeting does not carry Smtp__ServerName: configuration binding is broken"

echo "== aot-check: delivering one message over STARTTLS with AUTH (swaks)"
if ! timeout 60 swaks --server "127.0.0.1:$port" --from a@c.test --to b@s.test -tls -au alice -ap secret \
    --body "$token" >"$work/swaks.log" 2>&1; then
    cat "$work/swaks.log" >&2
    fail "swaks could not deliver"
fi

delivered=("$maildir"/new/*)
[[ -e "${delivered[0]}" ]] || fail "nothing in $maildir/new"
((${#delivered[@]} == 1)) || fail "${#delivered[@]} files in $maildir/new, expected 1"
grep -q "$token" "${delivered[0]}" || fail "the stored message does not hold the body that was sent"
echo "   stored: $(basename "${delivered[0]}")"

echo "== aot-check: stopping the server with SIGTERM"
kill -TERM "$server_pid"
# At most 30 s (the server's grace period for sessions is longer, but no session is open now).
for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    fail "the server did not exit within 30 s of SIGTERM"
fi
set +e
wait "$server_pid"
status=$?
set -e
server_pid=""
((status == 0)) || fail "the server exited with $status after SIGTERM, expected 0"

echo "== aot-check: passed (published without warnings, delivered over STARTTLS with AUTH, exited 0 on SIGTERM)"
