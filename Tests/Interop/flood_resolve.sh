#!/usr/bin/env bash
# A query flood from one source against a real node, while other sources resolve through it
# (issue 12: "a flood of 200k queries/s from one source leaves other sources' resolves >= 99 %
# successful and the node's RSS under the ceiling").
#
#   Tests/Interop/flood_resolve.sh [-s SECONDS] [-w WINDOW] [-k KIND] [-n RESOLVES] [-v]
#
# Starts two release nodes on 127.0.0.1: the victim V (a seed) and P, which joins through V and
# publishes its record. Then ../shared/tools/krpc_load.c floods V from one UDP socket for SECONDS
# (default 30) with WINDOW queries in flight (default 40000; unanswered queries are retired
# after 200 ms, so a silent node is offered about WINDOW / 0.2 s = 200k queries/s) of KIND
# (find_node, get or ping; default find_node; -v: a new random querier ID for every query).
# Meanwhile RESOLVES (default 100) `keyway resolve P --seed V` run one after another from fresh
# sockets (other sources), each with a 5 s timeout. V is the resolver's only way in, so a resolve
# succeeds only if V still answers it. Prints the flood's offered and answered rates, the
# resolves that succeeded with their latency percentiles, V's peak RSS (VmHWM) and its RSS
# before and after, and a KRPC ping's latency from another source after the flood.
#
# On loopback the query rate limit counts each HOST:PORT as its own source (local networks are
# exempt from the /24 grouping), so the flooding socket is one source and each resolve another,
# as distinct hosts would be on the internet. The generator runs on CPU 0, V on CPU 1, the
# resolves unpinned. Only 127.0.0.1 is ever contacted; every process is killed on exit.
# KEYWAY_BINARY overrides the binary (default .build/release/keyway).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds=30 window=40000 kind=find_node resolves=100 vary=""
while getopts "s:w:k:n:v" opt; do
    case "$opt" in
        s) seconds="$OPTARG" ;;
        w) window="$OPTARG" ;;
        k) kind="$OPTARG" ;;
        n) resolves="$OPTARG" ;;
        v) vary="-v" ;;
        *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done
keyway="${KEYWAY_BINARY:-$repo/.build/release/keyway}"
[ -x "$keyway" ] || { echo "no keyway binary at $keyway (swift build -c release)" >&2; exit 2; }

# shellcheck source=krpc_load_common.sh
source "$here/krpc_load_common.sh"

# The key a node printed on its "key: " line.
key_of() {
    for _ in $(seq 100); do
        key="$(sed -n 's/.*key: \([a-z0-9]*\).*/\1/p' "$1" | head -1)"
        [ -n "$key" ] && { echo "$key"; return 0; }
        sleep 0.1
    done
    echo "no key line in $1" >&2
    return 1
}
rss_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

victim_port="$(free_port)"
mkdir -p "$tmp/victim" "$tmp/publisher"
taskset -c 1 "$keyway" run --state-dir "$tmp/victim" --listen "127.0.0.1:$victim_port" --log-level error >"$tmp/victim.log" 2>&1 &
victim=$!
pids+=("$victim")
wait_for_ping "$victim_port"
"$keyway" run --state-dir "$tmp/publisher" --listen 127.0.0.1:0 --seed "127.0.0.1:$victim_port" --log-level error >"$tmp/publisher.log" 2>&1 &
pids+=($!)
target="$(key_of "$tmp/publisher.log")"
for _ in $(seq 60); do
    "$keyway" resolve "$target" --seed "127.0.0.1:$victim_port" --timeout 2 >/dev/null 2>&1 && break
    sleep 0.5
done
"$keyway" resolve "$target" --seed "127.0.0.1:$victim_port" --timeout 5 >/dev/null || { echo "the record never became resolvable" >&2; exit 1; }
rss_before="$(rss_kb "$victim" VmRSS)"

taskset -c 0 "$tmp/krpc_load" $vary "127.0.0.1:$victim_port" "$seconds" "$kind" "$window" >"$tmp/flood.out" 2>&1 &
flood=$!
pids+=("$flood")
sleep 1
ok=0 failed=0
: >"$tmp/latency"
for _ in $(seq "$resolves"); do
    kill -0 "$flood" 2>/dev/null || break
    start=$(date +%s%N)
    if "$keyway" resolve "$target" --seed "127.0.0.1:$victim_port" --timeout 5 --log-level debug >/dev/null 2>"$tmp/resolve.err"; then
        ok=$((ok + 1))
        echo $(( ($(date +%s%N) - start) / 1000000 )) >>"$tmp/latency"
    else
        failed=$((failed + 1))
        cp "$tmp/resolve.err" "${KEYWAY_FLOOD_FAILURES:-$tmp}/failed-resolve-$failed.log"
    fi
done
still_flooding=0
kill -0 "$flood" 2>/dev/null && still_flooding=1
wait "$flood" || true
rss_peak="$(rss_kb "$victim" VmHWM)"
rss_after="$(rss_kb "$victim" VmRSS)"
ping_after="$("$tmp/krpc_load" -q "127.0.0.1:$victim_port" 1 ping 1 2>&1 || true)"

echo "flood: $(grep RESULT "$tmp/flood.out" || tail -1 "$tmp/flood.out")"
echo "flood: window $window, kind $kind${vary:+, random querier IDs}, $seconds s; $( [ "$still_flooding" = 1 ] && echo "all $resolves resolves ran during it" || echo 'resolves ran until it ended')"
total=$((ok + failed))
percent="$(awk -v ok="$ok" -v total="$total" 'BEGIN { printf "%.1f", total ? 100 * ok / total : 0 }')"
echo "resolves during the flood: $ok of $total succeeded ($percent %)"
if [ -s "$tmp/latency" ]; then
    sort -n "$tmp/latency" | awk '{ a[NR] = $1 } END { printf "resolve latency (whole process): p50 %d ms, p90 %d ms, max %d ms\n", a[int(NR * 0.5 + 0.5)], a[int(NR * 0.9 + 0.5)], a[NR] }'
fi
echo "victim RSS: $((rss_before / 1024)) MB before, peak $((rss_peak / 1024)) MB, $((rss_after / 1024)) MB after"
echo "ping after the flood: $ping_after"
