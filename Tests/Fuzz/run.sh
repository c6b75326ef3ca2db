#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Tests/Fuzz (Docs/FUZZING.md).
#
#   Tests/Fuzz/run.sh [TARGET|all] [RUNS] [-- LIBFUZZER OPTIONS...]
#   Tests/Fuzz/run.sh --build-only [TARGET|all]
#
# TARGET is one of: bencode krpc dns transport-packet transport-frames noise (default all);
# RUNS is libFuzzer's -runs (default 100000). Each target starts from its seed corpus,
# Tests/Fuzz/corpus/<target>/ (read only; new inputs go to .build/fuzz/corpus/<target>/), and
# crashes are written to .build/fuzz/artifacts/<target>/. Exit status: 0 clean, else the
# fuzzer's (a crash, a leak or a broken property).
#
# KeywayCore's sources are compiled with -sanitize=fuzzer,address (coverage and AddressSanitizer)
# into .build/fuzz; KeywayCrypto, swift-crypto and swift-collections are linked from the
# package's debug build (`swift build` first; this script runs it when they are missing).
# Builds take the shared lock /tmp/keyway-build.lock when flock(1) exists; fuzzing runs
# without it, under `nice -n 10`.
#
# KEYWAY_FUZZ_CORE=DIR fuzzes the KeywayCore sources in DIR instead (another branch's, unpacked
# with `git archive BRANCH Sources/KeywayCore | tar -x -C DIR`), built into KEYWAY_FUZZ_OUT
# (default .build/fuzz-alt). KEYWAY_FUZZ_UNLOCKED=1 builds without taking the lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ="$ROOT/Tests/Fuzz"
CORE="$ROOT/Sources/KeywayCore"
OUT="$ROOT/.build/fuzz"
if [[ -n "${KEYWAY_FUZZ_CORE:-}" ]]; then
    CORE="$(cd "$KEYWAY_FUZZ_CORE" && pwd)"
    [[ -d "$CORE/Sources/KeywayCore" ]] && CORE="$CORE/Sources/KeywayCore"
    OUT="${KEYWAY_FUZZ_OUT:-$ROOT/.build/fuzz-alt}"
fi
ALL_TARGETS=(bencode krpc dns transport-packet transport-frames noise)
LOCK=/tmp/keyway-build.lock

locked() {
    if [[ -z "${KEYWAY_FUZZ_UNLOCKED:-}" ]] && command -v flock >/dev/null; then flock "$LOCK" "$@"; else "$@"; fi
}

build_only=0
if [[ "${1:-}" == "--build-only" ]]; then build_only=1; shift; fi
target="${1:-all}"
runs="${2:-100000}"
shift $(( $# > 2 ? 2 : $# ))
[[ "${1:-}" == "--" ]] && shift
extra=("$@")

if [[ "$target" == "all" ]]; then targets=("${ALL_TARGETS[@]}"); else targets=("$target"); fi
for t in "${targets[@]}"; do
    [[ -f "$FUZZ/targets/$t.swift" ]] || { echo "run.sh: unknown target $t (one of: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

DEBUG="$ROOT/.build/$(uname -m)-unknown-linux-gnu/debug"
if [[ ! -f "$DEBUG/Modules/KeywayCrypto.swiftmodule" || ! -d "$DEBUG/Crypto.build" ]]; then
    (cd "$ROOT" && locked swift build --target KeywayCore)
fi

# The C modules swift-crypto and KeywayCrypto import, as SwiftPM passes them.
CHECKOUTS="$ROOT/.build/checkouts/swift-crypto/Sources"
MODULE_FLAGS=(-I "$DEBUG/Modules" -Xcc "-fmodule-map-file=$ROOT/Sources/CSodium/module.modulemap")
for module in CXKCPShims CXKCP CCryptoBoringSSLShims CCryptoBoringSSL; do
    if [[ -f "$CHECKOUTS/$module/include/module.modulemap" ]]; then
        MODULE_FLAGS+=(-Xcc "-fmodule-map-file=$CHECKOUTS/$module/include/module.modulemap" -Xcc -I -Xcc "$CHECKOUTS/$module/include")
    fi
done
SANITIZE=(-sanitize=fuzzer,address -O -g -swift-version 6)

mkdir -p "$OUT/Modules"
core_sources=()
while IFS= read -r file; do core_sources+=("$file"); done < <(find "$CORE" -name '*.swift' | sort)

# KeywayCore, instrumented, once for all targets (again when a source is newer).
if [[ ! -f "$OUT/libKeywayCore.a" ]] || [[ -n "$(find "$CORE" -name '*.swift' -newer "$OUT/libKeywayCore.a" | head -1)" ]]; then
    echo "run.sh: building $CORE with ${SANITIZE[*]}" >&2
    locked swiftc -module-name KeywayCore -parse-as-library -enable-testing "${SANITIZE[@]}" "${MODULE_FLAGS[@]}" \
        -emit-module -emit-module-path "$OUT/Modules/KeywayCore.swiftmodule" \
        -emit-library -static -o "$OUT/libKeywayCore.a" "${core_sources[@]}"
fi

# Objects of the uninstrumented dependencies.
dependency_objects=()
for module in KeywayCrypto Crypto CryptoBoringWrapper CCryptoBoringSSL CCryptoBoringSSLShims CXKCP CXKCPShims \
    Collections DequeModule OrderedCollections HeapModule BitCollections HashTreeCollections SortedCollections \
    InternalCollectionsUtilities ContainersPreview BasicContainers TrailingElementsModule; do
    [[ -d "$DEBUG/$module.build" ]] || continue
    while IFS= read -r object; do dependency_objects+=("$object"); done < <(find "$DEBUG/$module.build" -name '*.o' | sort)
done

for t in "${targets[@]}"; do
    binary="$OUT/fuzz-$t"
    if [[ ! -x "$binary" || "$FUZZ/targets/$t.swift" -nt "$binary" || "$FUZZ/FuzzSupport.swift" -nt "$binary" \
          || "$OUT/libKeywayCore.a" -nt "$binary" ]]; then
        echo "run.sh: building $binary" >&2
        locked swiftc -module-name "Fuzz_${t//-/_}" -parse-as-library "${SANITIZE[@]}" -I "$OUT/Modules" "${MODULE_FLAGS[@]}" \
            -use-ld=lld "$FUZZ/FuzzSupport.swift" "$FUZZ/targets/$t.swift" \
            "$OUT/libKeywayCore.a" "${dependency_objects[@]}" -lsodium -o "$binary"
    fi
done
[[ $build_only == 1 ]] && exit 0

status=0
for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
    echo "run.sh: $t, $runs runs" >&2
    nice -n 10 "$OUT/fuzz-$t" -runs="$runs" -max_len=2048 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$t/" "${extra[@]}" "$OUT/corpus/$t" "$FUZZ/corpus/$t" || status=$?
    [[ $status == 0 ]] || break
done
exit $status
