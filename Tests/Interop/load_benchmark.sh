#!/usr/bin/env bash
# Side-by-side KRPC load benchmark: how many ping, find_node and get queries per second one DHT
# node answers on loopback, for libtorrent 2.0.8 (rate limits off) and for a keyway command.
#
#   Tests/Interop/load_benchmark.sh [-s SECONDS] [-w WINDOW] [-k 'KEYWAY COMMAND'] [-K KINDS]
#
# -s  seconds per run (default 5); -w  queries in flight (default 256)
# -k  a command that runs one keyway node; "{port}" in it is replaced by a free UDP port on
#     127.0.0.1, and the node must answer there with its query rate limit off, e.g.
#       -k '.build/release/keyway-loadserver {port}'                      (test scaffolding, now)
#       -k '.build/release/keyway run --listen 127.0.0.1:{port} ...'      (once the runtime lands)
# -K  query kinds (default "ping find_node get")
# -L  skip libtorrent
#
# The server runs pinned to CPU 1 and the generator (../shared/tools/krpc_load.c, built with
# gcc -O2 into a temporary directory) to CPU 0. Only 127.0.0.1 is ever contacted. Prints a
# Markdown table and every RESULT line. Bounded: every server is killed on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds=5 window=256 keyway="" kinds="ping find_node get" libtorrent=1
while getopts "s:w:k:K:L" opt; do
    case "$opt" in
        s) seconds="$OPTARG" ;;
        w) window="$OPTARG" ;;
        k) keyway="$OPTARG" ;;
        K) kinds="$OPTARG" ;;
        L) libtorrent=0 ;;
        *) sed -n '2,17p' "$0"; exit 2 ;;
    esac
done

src="${KRPC_LOAD_SRC:-$repo/../shared/tools/krpc_load.c}"
[ -f "$src" ] || src="/work/shared/tools/krpc_load.c"
tmp="$(mktemp -d)"
pids=()
cleanup() {
    exec 3>&- 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
gcc -O2 -o "$tmp/krpc_load" "$src"

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something answers a KRPC ping on 127.0.0.1:$1 (at most 30 s).
wait_for_ping() {
    for _ in $(seq 60); do
        if "$tmp/krpc_load" -q "127.0.0.1:$1" 1 ping 1 2>/dev/null | grep -q 'replies=[1-9]'; then return 0; fi
        sleep 0.5
    done
    echo "nothing answers on 127.0.0.1:$1" >&2
    return 1
}

declare -A rps
run_kinds() { # name port
    for kind in $kinds; do
        line="$(taskset -c 0 "$tmp/krpc_load" -q "127.0.0.1:$2" "$seconds" "$kind" "$window")"
        echo "$1 $line"
        rps["$1/$kind"]="$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line")"
        sleep 1
    done
}

servers=()
if [ "$libtorrent" = 1 ]; then
    # Its stdin is a FIFO held open on fd 3: the peer exits when the script does.
    mkfifo "$tmp/lt.in"
    taskset -c 1 /usr/bin/python3 "$here/libtorrent_peer.py" --rate-limits-off --lifetime 600 <"$tmp/lt.in" >"$tmp/lt.out" &
    pids+=($!)
    exec 3>"$tmp/lt.in"
    for _ in $(seq 100); do grep -q '"ready"' "$tmp/lt.out" 2>/dev/null && break; sleep 0.2; done
    port="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/lt.out" | head -1)"
    [ -n "$port" ] || { echo "libtorrent did not start" >&2; exit 1; }
    wait_for_ping "$port"
    run_kinds libtorrent "$port"
    servers+=(libtorrent)
fi
if [ -n "$keyway" ]; then
    port="$(free_port)"
    # shellcheck disable=SC2086
    taskset -c 1 ${keyway//\{port\}/$port} >"$tmp/keyway.log" 2>&1 &
    pids+=($!)
    wait_for_ping "$port" || { cat "$tmp/keyway.log" >&2; exit 1; }
    run_kinds keyway "$port"
    rss="$(ps -o rss= -p "${pids[-1]}" 2>/dev/null || true)"
    echo "keyway RSS after load: ${rss:-?} KiB"
    servers+=(keyway)
fi

echo
header="| queries/s (window $window, ${seconds} s) |"
for s in "${servers[@]}"; do header+=" $s |"; done
echo "$header"
echo "|---|$(printf -- '---|%.0s' "${servers[@]}")"
for kind in $kinds; do
    row="| $kind |"
    for s in "${servers[@]}"; do row+=" ${rps[$s/$kind]:-?} |"; done
    echo "$row"
done
