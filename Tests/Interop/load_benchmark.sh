#!/usr/bin/env bash
# Side-by-side KRPC load benchmark: how many ping, find_node and get queries per second one DHT
# node answers on loopback, for libtorrent 2.0.8 (rate limits off) and for a keyway command.
#
#   Tests/Interop/load_benchmark.sh [-s SECONDS] [-w WINDOW] [-k 'KEYWAY COMMAND'] [-K KINDS]
#
# -s  seconds per run (default 5); -w  queries in flight (default 256)
# -k  a command that runs one keyway node; "{port}" in it is replaced by a free UDP port on
#     127.0.0.1, and the node must answer there with its query rate limit off, e.g.
#       -k '.build/release/keyway run --state-dir DIR --listen 127.0.0.1:{port} --query-rate-limit 0 --log-level error'
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

# shellcheck source=krpc_load_common.sh
source "$here/krpc_load_common.sh"

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
    start_libtorrent 600
    port="$libtorrent_port"
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
