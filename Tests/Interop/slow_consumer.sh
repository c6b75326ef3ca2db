#!/usr/bin/env bash
# Peers feeding a local service that never reads (issue 12: "a node under any input stays under
# a documented memory ceiling"): how much of their data a listener buffers.
#
#   Tests/Interop/slow_consumer.sh [-n SESSIONS] [-b MEGABYTES] [-s SECONDS]
#
# Starts a TCP service on 127.0.0.1 that accepts connections and never reads them, and
# `keyway listen --allow-any --forward` to it. Then SESSIONS (default 20) `keyway connect`
# processes, each with a key made for it, write MEGABYTES (default 8) each to the listener at
# once and are left to push for SECONDS (default 20). Prints the listener's RSS before, its
# peak (VmHWM) and its RSS at the end. Only 127.0.0.1 is ever contacted; every process is
# killed on exit. KEYWAY_BINARY overrides the binary (default .build/release/keyway).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
sessions=20 megabytes=8 seconds=20
while getopts "n:b:s:" opt; do
    case "$opt" in
        n) sessions="$OPTARG" ;;
        b) megabytes="$OPTARG" ;;
        s) seconds="$OPTARG" ;;
        *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
keyway="${KEYWAY_BINARY:-$repo/.build/release/keyway}"
[ -x "$keyway" ] || { echo "no keyway binary at $keyway (swift build -c release)" >&2; exit 2; }

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
rss_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# The service: accepts, holds every connection open, reads nothing; prints its port.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True)
held = []
s.settimeout(1)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' "$((seconds + 120))" >"$tmp/sink.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/sink.port" ] && break; sleep 0.1; done
sink_port="$(cat "$tmp/sink.port")"

mkdir -p "$tmp/listener"
"$keyway" listen --state-dir "$tmp/listener" --listen 127.0.0.1:0 --allow-any \
    --forward "127.0.0.1:$sink_port" --log-level error >"$tmp/listener.out" 2>"$tmp/listener.err" &
listener=$!
pids+=("$listener")
key="" endpoint=""
for _ in $(seq 100); do
    key="$(sed -n 's/.*key: \([a-z0-9]*\).*/\1/p' "$tmp/listener.out" | head -1)"
    endpoint="$(sed -n 's/.*listening: \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/listener.out" | head -1)"
    [ -n "$key" ] && [ -n "$endpoint" ] && break
    sleep 0.1
done
[ -n "$key" ] && [ -n "$endpoint" ] || { echo "the listener printed no key or endpoint" >&2; cat "$tmp/listener.err" >&2; exit 1; }
rss_before="$(rss_kb "$listener" VmRSS)"

head -c "$((megabytes << 20))" /dev/urandom >"$tmp/payload"
for i in $(seq "$sessions"); do
    "$keyway" connect "$key@$endpoint" --identity "$tmp/id-$i" --timeout "$((seconds + 30))" \
        --log-level error <"$tmp/payload" >/dev/null 2>&1 &
    pids+=($!)
done
sleep "$seconds"
kill -0 "$listener" || { echo "the listener died" >&2; exit 1; }
rss_peak="$(rss_kb "$listener" VmHWM)"
rss_after="$(rss_kb "$listener" VmRSS)"
echo "$sessions sessions x $megabytes MB to a service that never reads, $seconds s"
echo "listener RSS: $((rss_before / 1024)) MB before, peak $((rss_peak / 1024)) MB, $((rss_after / 1024)) MB at the end"
