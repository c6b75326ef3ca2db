#!/usr/bin/env bash
# Interleaved KRPC load rounds: libtorrent 2.0.8 (rate limits off) and one or more keyway
# commands, measured in turn within each round so that all of them see the same machine noise.
#
#   Tests/Interop/side_by_side.sh [-r ROUNDS] [-s SECONDS] [-w WINDOW] [-E] NAME='COMMAND' ...
#
# Each COMMAND runs one keyway node; "{port}" is replaced by a free UDP port on 127.0.0.1 and
# "{dir}" by an empty state directory, e.g.
#   now='.build/release/keyway run --state-dir {dir} --listen 127.0.0.1:{port} --query-rate-limit 0 --log-level error'
# -r rounds (default 5), -s seconds per measurement (default 5), -w queries in flight (default 64),
# -E leave the routing tables empty (no fill; see below).
#
# Servers run pinned to CPU 1, the generator (../shared/tools/krpc_load.c, gcc -O2) to CPU 0.
# The routing tables are first offered the same contacts (2 s of find_node from random querier
# IDs, all from the generator's one socket): keyway then holds ~130 of them and answers
# find_node and get with 8 nodes (208 bytes), while libtorrent adds none (it admits only nodes
# that answered its own queries) and answers with `nodes0:`. -E skips that step, so both answer
# with no nodes: the like-for-like comparison. The measured queries are read-only (BEP 43). Prints one line per measurement (round, kind, server,
# replies/s, replies per server CPU-second from /proc/PID/stat), then the medians per kind and
# server, with each server's difference from libtorrent. Only 127.0.0.1 is ever contacted; every
# server is killed on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rounds=5 seconds=5 window=64 fill=1
while getopts "r:s:w:E" opt; do
    case "$opt" in
        r) rounds="$OPTARG" ;;
        s) seconds="$OPTARG" ;;
        w) window="$OPTARG" ;;
        E) fill=0 ;;
        *) sed -n '2,23p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

# shellcheck source=krpc_load_common.sh
source "$here/krpc_load_common.sh"

declare -A port pid
names=(libtorrent)
start_libtorrent 3600
pid[libtorrent]=$libtorrent_pid
port[libtorrent]=$libtorrent_port
for spec in "$@"; do
    name="${spec%%=*}" command="${spec#*=}"
    [ "$name" != "$spec" ] && [ -n "$name" ] || { echo "expected NAME='COMMAND', got: $spec" >&2; exit 2; }
    port[$name]="$(free_port)"
    mkdir -p "$tmp/$name"
    command="${command//\{port\}/${port[$name]}}"
    # shellcheck disable=SC2086
    taskset -c 1 ${command//\{dir\}/$tmp/$name} >"$tmp/$name.log" 2>&1 &
    pids+=($!)
    pid[$name]=$!
    names+=("$name")
done
for name in "${names[@]}"; do
    wait_for_ping "${port[$name]}" || { cat "$tmp/$name.log" >&2 2>/dev/null; exit 1; }
    if [ "$fill" = 1 ]; then taskset -c 0 "$tmp/krpc_load" -q -v "127.0.0.1:${port[$name]}" 2 find_node 64 >/dev/null; fi
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
: >"$tmp/results"
for round in $(seq "$rounds"); do
    for kind in ping find_node get; do
        for name in "${names[@]}"; do
            c0="$(cpu "${pid[$name]}")"
            line="$(taskset -c 0 "$tmp/krpc_load" -q -r "127.0.0.1:${port[$name]}" "$seconds" "$kind" "$window")"
            c1="$(cpu "${pid[$name]}")"
            replies="$(sed -n 's/.* replies=\([0-9]*\).*/\1/p' <<<"$line")"
            ticks=$((c1 - c0 > 0 ? c1 - c0 : 1))
            echo "$round $kind $name $((replies / seconds)) $((replies * $(getconf CLK_TCK) / ticks))" | tee -a "$tmp/results"
        done
    done
done

echo
echo "| median of $rounds | $(printf '%s | ' "${names[@]}")"
echo "|---|$(printf -- '---|%.0s' "${names[@]}")"
/usr/bin/python3 - "$tmp/results" "${names[@]}" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
names = sys.argv[2:]
for kind in ("ping", "find_node", "get"):
    def median(name, column):
        return statistics.median(int(r[column]) for r in rows if r[1] == kind and r[2] == name)
    base = median("libtorrent", 3)
    cells = [f"{median(n, 3):,.0f}/s ({median(n, 3) / base - 1:+.0%}), {median(n, 4):,.0f}/CPU-s" for n in names]
    print(f"| {kind} | " + " | ".join(cells) + " |")
PY
