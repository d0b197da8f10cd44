#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a while; exits non-zero if any target crashed.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]     (30 seconds each and every target by default)
#
# cargo-fuzz is installed from crates.io if missing. The targets are built with nightly rustc
# flags (-Zsanitizer, sanitizer coverage): with the nightly toolchain when rustup has one,
# otherwise with the default (stable) one, which accepts them under RUSTC_BOOTSTRAP=1 (set in
# both cases); FUZZ_TOOLCHAIN=name chooses the toolchain. FUZZ_SANITIZER=none drops
# AddressSanitizer (default: address): 4 to 6 times the executions per second and an eighth of
# the memory, but memory errors in dependencies' unsafe code go unseen. The first build compiles
# every dependency again with these flags (2 to 2.5 minutes on 2 cores), and again after a
# change of toolchain or sanitizer.
#
# Each run grows fuzz/corpus/TARGET (not in git) from fuzz/seeds/TARGET; a crash is saved under
# fuzz/artifacts/TARGET/ and can be shrunk and replayed with
#   cargo fuzz tmin TARGET fuzz/artifacts/TARGET/crash-...
#   cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[[ $# -gt 0 ]] && shift
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(rpc_envelope filters)
fuzz=$PWD/fuzz

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

toolchain=${FUZZ_TOOLCHAIN:-}
if [[ -z $toolchain ]] && rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=nightly
fi
# A stable rustc accepts the nightly flags cargo-fuzz passes only when told to; nightly ignores it.
export RUSTC_BOOTSTRAP=1
fuzz_cargo=(cargo ${toolchain:+"+$toolchain"} fuzz)
sanitizer=(--sanitizer "${FUZZ_SANITIZER:-address}")
echo "== $(${toolchain:+rustup run "$toolchain"} rustc --version), ${sanitizer[*]}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
if ! "${fuzz_cargo[@]}" build "${sanitizer[@]}" >"$log" 2>&1; then
    cat "$log"
    echo "fuzz build failed"
    exit 1
fi
echo "== build: $((SECONDS - start)) s"

failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s"
    mkdir -p "$fuzz/corpus/$target"
    start=$SECONDS
    # -timeout: one input that takes 10 s is a finding too; -max_len: room for deep and wide JSON.
    if "${fuzz_cargo[@]}" run "${sanitizer[@]}" "$target" "$fuzz/corpus/$target" "$fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -max_len=8192 -dict="$fuzz/dict/json.dict" \
        -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$log" || true
    else
        # The failure as libFuzzer and cargo-fuzz reported it: the panic or signal and the top of
        # its stack, then the input (saved, in Base64, as Rust sees it) and how to replay it.
        sed -n '/^thread .* panicked\|ERROR: \(libFuzzer\|AddressSanitizer\|LeakSanitizer\)/,$p' "$log" |
            head -60 | cut -c1-300
        echo "..."
        sed -n '/Test unit written to/,/cargo fuzz tmin/p' "$log" | grep -v '^─' | cut -c1-300
        failed+=("$target")
    fi
    echo "== $target: $((SECONDS - start)) s"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, no crash"
