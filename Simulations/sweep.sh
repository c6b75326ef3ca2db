#!/usr/bin/env bash
# Runs keyway-sim over many seeds and prints one line per seed and a summary.
#
#   Simulations/sweep.sh [--binary PATH] [--first N] SEEDS [keyway-sim options...]
#
# Example (the sweeps of Docs/SIMULATION.md):
#   Simulations/sweep.sh 20 --nodes 10000                                   # default scenario
#   Simulations/sweep.sh 20 --nodes 2000 --churn 0 --ip-churn 0 --loss 0    # quiet network
#   Simulations/sweep.sh 5 --nodes 10000 --hostile 0.2:lie                  # hostile nodes
#
# With --hostile the table adds the records accepted from hostile nodes (forged, older: must be
# 0), the forged and older records they served, and the eclipsed key's resolve success.
#
# Seeds are FIRST, FIRST+1, ... (FIRST defaults to 1): a sweep is every seed in a range, never a
# seed picked because it passes. A seed whose run fails any check is listed with the command
# that reproduces it; the exit status is 1 if any seed failed.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
first=1
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --first) first="$2"; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
    echo "usage: Simulations/sweep.sh [--binary PATH] [--first N] SEEDS [keyway-sim options...]" >&2
    exit 2
fi
count="$1"; shift
if [ -z "$binary" ]; then
    swift build -c release --product keyway-sim >/dev/null
    binary=.build/release/keyway-sim
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
hostile=0
for arg in "$@"; do [ "$arg" = "--hostile" ] && hostile=1; done
if [ "$hostile" -eq 1 ]; then
    printf '%-6s %-7s %-9s %-10s %-11s %-9s %-9s %-8s %-8s %-8s %-8s %-8s %-9s %s\n' seed checks success fresh latency_p50 p99 hops_p50 ideal gap forged older served eclipse wall
else
    printf '%-6s %-7s %-9s %-10s %-11s %-9s %-9s %-8s %-8s %-11s %s\n' seed checks success fresh latency_p50 p99 hops_p50 ideal gap moved_p99 wall
fi
for seed in $(seq "$first" $((first + count - 1))); do
    status=0
    "$binary" --seed "$seed" --json "$@" >"$out/run.json" 2>"$out/run.err" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
        echo "seed $seed: keyway-sim exited $status"; cat "$out/run.err" >&2; exit 2
    fi
    python3 - "$out/run.json" "$seed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["checks"]
ok = "pass" if c["violations"] == 0 else "FAIL"
ideal = d.get("ideal_hops", {}).get("p50", float("nan"))
gap = d.get("hop_gap", {}).get("p50", float("nan"))
line = (f'{sys.argv[2]:<6} {ok:<7} {d["resolve_success_rate"]*100:8.3f}% {d["resolve_fresh_rate"]*100:8.3f}% '
        f'{d["resolve_latency_ms"]["p50"]:8.0f}ms {d["resolve_latency_ms"]["p99"]:6.0f}ms {d["hops"]["p50"]:<9} {ideal:<8} {gap:<8} ')
h = d.get("hostile")
if h is not None:
    # forged / older: records accepted (must be 0); served: forged plus older versions the
    # hostile nodes offered; eclipse: the eclipsed key's resolve success.
    eclipse = f'{h["eclipse_success_rate"]*100:.2f}%' if h.get("eclipse_target") is not None else "-"
    line += f'{h["forged_accepted"]:<8} {h["older_accepted"]:<8} {h["forged_served"] + h["older_served"]:<8} {eclipse:<9} '
else:
    # moved_p99: freshness after a move, p99 (the time until a resolve returns the new record).
    line += f'{d["freshness_ms"]["p99"]:8.0f}ms '
print(line + f'{d["wall_seconds"]:.0f}s')
PY
    if [ "$status" -ne 0 ]; then
        failed=$((failed + 1))
        sed -n 's/^/    /p' "$out/run.err" | cut -c1-400
    fi
done
echo "seeds: $((count - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
