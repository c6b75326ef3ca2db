# Shared by load_benchmark.sh and side_by_side.sh (sourced, after `set -euo pipefail` and with
# $repo and $here set): a temporary directory, a generator built from ../shared/tools/krpc_load.c,
# and every server started through it killed on exit. Only 127.0.0.1 is ever contacted.

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

# A UDP port on 127.0.0.1 that nothing is bound to right now.
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

# Starts libtorrent 2.0.8 with its DHT rate limits off, pinned to CPU 1, for at most $1 seconds;
# sets $libtorrent_pid and $libtorrent_port. Its stdin is a FIFO held open on fd 3: the peer exits when the script does.
start_libtorrent() {
    mkfifo "$tmp/lt.in"
    taskset -c 1 /usr/bin/python3 "$here/libtorrent_peer.py" --rate-limits-off --lifetime "$1" <"$tmp/lt.in" >"$tmp/lt.out" &
    libtorrent_pid=$!
    pids+=("$libtorrent_pid")
    exec 3>"$tmp/lt.in"
    for _ in $(seq 100); do grep -q '"ready"' "$tmp/lt.out" 2>/dev/null && break; sleep 0.2; done
    libtorrent_port="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/lt.out" | head -1)"
    [ -n "$libtorrent_port" ] || { echo "libtorrent did not start" >&2; exit 1; }
}
