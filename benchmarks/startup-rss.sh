#!/usr/bin/env bash
# Start-up time and idle memory of the server sample, Native AOT against JIT.
#
#   benchmarks/startup-rss.sh [RUNS] [IDLE_SECONDS]      (defaults: 5 runs, 5 s idle)
#
# Publishes samples/StartTls.Smtp.Server twice in Release: as a Native AOT binary (-r linux-x64 -p:PublishAot=true) and
# framework-dependent for the JIT (run as `dotnet StartTls.Smtp.Server.dll`). Each run starts the server on a free
# loopback port with a fresh Maildir, one user and the development certificate (made by one unmeasured warm-up run per
# build, then reused, as on any later start), and measures from just before the process is spawned to
#   - listening: the first TCP connection to the port succeeds (polled every 1 ms), and
#   - greeting:  the 220 banner has been read on that connection, and the CPU time the server's threads have used by
#                then (from /proc/PID/task/*/schedstat; it depends far less on other load than the wall-clock times);
# 'published MiB' is the native binary, or for the JIT build the published assemblies (the shared runtime not counted);
# then it sends QUIT, leaves the server idle for IDLE_SECONDS and reads VmRSS (and VmHWM, the peak) from
# /proc/PID/status, and stops it with SIGTERM (which must exit 0). Prints each run and the medians as Markdown.
# Needs clang and zlib1g-dev (AOT) and python3. Run it on an otherwise idle machine: the figures are wall-clock times.
set -euo pipefail

cd "$(dirname "$0")/.."

runs=${1:-5}
idle=${2:-5}
out=artifacts/startup-rss
rm -rf "$out"
mkdir -p "$out"

echo "Publishing the Native AOT build ..." >&2
dotnet publish samples/StartTls.Smtp.Server -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" -v q -nologo >&2
echo "Publishing the JIT build ..." >&2
dotnet publish samples/StartTls.Smtp.Server -c Release -o "$out/jit" -v q -nologo >&2

# What the figures depend on, for the record.
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src samples || echo ' (modified)'), .NET $(dotnet --version)"
echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), load average before: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo

python3 - "$out" "$runs" "$idle" <<'PY'
import os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

out, runs, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
builds = {
    "Native AOT": [os.path.abspath(f"{out}/aot/StartTls.Smtp.Server")],
    "JIT": ["dotnet", os.path.abspath(f"{out}/jit/StartTls.Smtp.Server.dll")],
}

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")

def cpu_ms(pid):
    # CPU time of every live thread (ns in the first field of schedstat): unlike wall-clock time it hardly depends on
    # what else the machine runs.
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # the thread just ended
    return total / 1e6

def run_once(command, workdir):
    port = free_port()
    maildir = tempfile.mkdtemp(prefix="startup-rss-mail.")
    args = command + ["--listen", f"127.0.0.1:{port}", "--maildir", maildir, "--user", "alice:secret"]
    start = time.monotonic()
    process = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        listening = greeting = None
        deadline = start + 30
        while listening is None:
            if process.poll() is not None:
                raise RuntimeError(f"exited with {process.returncode}: {process.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise RuntimeError("not listening within 30 s")
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
            except ConnectionRefusedError:
                time.sleep(0.001)
                continue
            listening = time.monotonic() - start
        with connection:
            banner = b""
            while not banner.endswith(b"\r\n"):
                chunk = connection.recv(512)
                if not chunk:
                    raise RuntimeError("closed before the greeting")
                banner += chunk
            greeting = time.monotonic() - start
            cpu = cpu_ms(process.pid)
            if not banner.startswith(b"220"):
                raise RuntimeError(f"unexpected greeting {banner!r}")
            connection.sendall(b"QUIT\r\n")
            connection.recv(512)
        time.sleep(idle)
        rss, hwm = status_kib(process.pid, "VmRSS"), status_kib(process.pid, "VmHWM")
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        if code != 0:
            raise RuntimeError(f"exit code {code} after SIGTERM")
        return listening * 1000, greeting * 1000, cpu, rss / 1024, hwm / 1024
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(maildir, ignore_errors=True)

results = {}
for name, command in builds.items():
    workdir = tempfile.mkdtemp(prefix="startup-rss-run.")
    run_once(command, workdir)  # warm-up: creates the development certificate in workdir/.dev-certs; not counted
    results[name] = [run_once(command, workdir) for _ in range(runs)]
    shutil.rmtree(workdir, ignore_errors=True)

print("| Build | Run | listening ms | 220 greeting ms | CPU ms to greeting | idle RSS MiB | peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
for name, rows in results.items():
    for i, (listening, greeting, cpu, rss, hwm) in enumerate(rows, 1):
        print(f"| {name} | {i} | {listening:.1f} | {greeting:.1f} | {cpu:.1f} | {rss:.1f} | {hwm:.1f} |")
print()
print(f"Medians of {runs} runs, idle {idle:g} s after the greeting:")
print()
print("| Build | listening ms | 220 greeting ms | CPU ms to greeting | idle RSS MiB | peak RSS MiB | published MiB |")
print("|---|---|---|---|---|---|---|")
for name, rows in results.items():
    medians = [statistics.median(column) for column in zip(*rows)]
    folder = f"{out}/aot" if name == "Native AOT" else f"{out}/jit"
    if name == "Native AOT":
        size = os.path.getsize(f"{folder}/StartTls.Smtp.Server")
    else:
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder) if f.endswith(".dll"))
    print(f"| {name} | {medians[0]:.1f} | {medians[1]:.1f} | {medians[2]:.1f} | {medians[3]:.1f} | {medians[4]:.1f} | {size / 1048576:.1f} |")
PY

echo
echo "Load average after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
