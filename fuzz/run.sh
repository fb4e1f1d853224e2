#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with AFL++ (cargo-afl, stable toolchain).
#
#   bash fuzz/run.sh smoke 30            every target for 30 s (CI)
#   bash fuzz/run.sh execs 1000000       every target until 1,000,000 executions
#   bash fuzz/run.sh triage - TARGET     replay the findings of the last run of TARGET
#
# Targets: expression (rule-language expressions), rule_files (the rule / parameter /
# campaign / situation checker), csv_table (CSV reader + privacy guard + cell
# validation), parquet_table (Polars' Parquet reader + the same). Seeds: fuzz/corpus/.
# Findings go to out/fuzz/<target>/; the script fails when any target found a crash or a
# hang (over 1 s), and prints each target's executions, time and findings.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-smoke}
amount=${2:-30}
shift 2 || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(expression rule_files csv_table parquet_table)

# cargo-afl from crates.io; it builds its own AFL++ (afl-fuzz and the LLVM runtime) on
# install or on `cargo afl config --build`.
if ! cargo afl --version >/dev/null 2>&1; then
    cargo install cargo-afl --version 0.18.2 --locked
fi
cargo afl config --build >/dev/null 2>&1 || true

# The long run fuzzes optimised targets (cargo-afl's default, -C opt-level=3: a cold
# build is as long as a release build of Polars, ~30 min here). The smoke run builds at
# opt-level 0 in a target folder of its own (~10 min cold), to keep CI short.
target_dir=target
if [ "$mode" = smoke ]; then
    export AFL_OPT_LEVEL=${AFL_OPT_LEVEL:-0}
    target_dir=target/smoke
fi
export CARGO_TARGET_DIR=$target_dir
[ "$mode" = triage ] || cargo afl build --locked --bins

# No terminal UI, no CPU governor or core-pattern checks in containers.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1

outdir=../out/fuzz
mkdir -p "$outdir"
failed=0
for t in "${targets[@]}"; do
    case "$mode" in
        smoke) limit=(-V "$amount") ;;
        execs) limit=(-E "$amount") ;;
        triage) limit=() ;;
        *) echo "mode: smoke SECONDS | execs N | triage -" >&2; exit 2 ;;
    esac
    start=$(date +%s)
    if [ "$mode" != triage ]; then
        rm -rf "${outdir:?}/$t"
        # -t 1000: an input running over 1 s is a hang. -m 8192: 8 GB of address space
        # per execution (Polars maps its thread pool and arenas up front).
        cargo afl fuzz "${limit[@]}" -t 1000 -m 8192 -i "corpus/$t" -o "$outdir/$t" "$target_dir/debug/$t" \
            > "$outdir/$t.log" 2>&1 || { echo "afl-fuzz failed for $t, see $outdir/$t.log"; tail -20 "$outdir/$t.log"; exit 1; }
    fi
    end=$(date +%s)
    stats="$outdir/$t/default/fuzzer_stats"
    execs=$(awk -F: '/^execs_done/ { gsub(/ /, "", $2); print $2 }' "$stats")
    crashes=$(find "$outdir/$t/default/crashes" -type f ! -name README.txt | wc -l)
    hangs=$(find "$outdir/$t/default/hangs" -type f | wc -l)
    corpus=$(find "$outdir/$t/default/queue" -type f | wc -l)
    # Each finding is replayed under the same limits. A crash whose output matches a
    # known defect of a dependency (fuzz/known/SIGNATURES, each explained there) is
    # counted and printed but does not fail the run, nor does one that does not happen
    # again on replay (Polars decodes in parallel: some aborts depend on timing); a
    # "hang" that replays in under 1 s was the machine's load. Anything else fails.
    known=0 new=0 unreproduced=0 real_hangs=0
    for f in $(find "$outdir/$t/default/crashes" -type f ! -name README.txt); do
        status=0
        message=$( (ulimit -v $((8192 * 1024)); RUST_BACKTRACE=0 "$target_dir/debug/$t" < "$f") 2>&1 | head -c 100000) || status=$?
        if printf '%s' "$message" | grep -qF -f <(grep -v -e '^#' -e '^[[:space:]]*$' known/SIGNATURES); then
            known=$((known + 1))
        elif [ "$status" -eq 0 ]; then
            unreproduced=$((unreproduced + 1))
        else
            new=$((new + 1))
            echo "  new crash: $f"
        fi
    done
    for f in $(find "$outdir/$t/default/hangs" -type f ! -name README.txt); do
        rc=0
        timeout 1 "$target_dir/debug/$t" < "$f" > /dev/null 2>&1 || rc=$?
        if [ "$rc" -eq 124 ]; then
            real_hangs=$((real_hangs + 1))
            echo "  hang: $f"
        fi
    done
    printf '%-14s %10s executions in %5d s, %5s paths in queue; crashes %s: new %s, known defect %s, not reproduced %s; hangs %s (over 1 s on replay %s)\n' \
        "$t" "$execs" "$((end - start))" "$corpus" "$crashes" "$new" "$known" "$unreproduced" "$hangs" "$real_hangs"
    if [ "$new" -gt 0 ] || [ "$real_hangs" -gt 0 ]; then
        echo "  findings in $outdir/$t/default/{crashes,hangs}: make each a regression test"
        failed=1
    fi
done
exit $failed
