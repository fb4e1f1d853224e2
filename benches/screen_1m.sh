#!/usr/bin/env bash
# Benchmark of the monthly job at scale: generate then screen N synthetic foyers
# (default 1,000,000) with last month's extract and the shipped campaigns (contact
# lists), release build, wall time and peak memory of each step; the bare scan of the
# same files (Polars reading every column, one aggregate each: the floor the screen is
# compared with); then the same screen in one piece, its outputs compared byte for byte
# with the default run.
#
#   bash benches/screen_1m.sh [N] [format csv|parquet] [--memoire-max SIZE]
#
# Needs GNU time (/usr/bin/time, Debian package `time`). CPU seconds (user, system) are
# printed beside the wall time: on a shared 2-core machine they vary less from run to
# run. Results go to stdout; record them in docs/performance.md with the machine
# (lscpu, free -g).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
FORMAT="${2:-csv}"
BUDGET=("${@:3}")
DIR="${BENCH_DIR:-/tmp/reperage-bench}"
BIN="${CARGO_TARGET_DIR:-target}/release/reperage"
cargo build --release -p reperage -p reperage-benches --locked
rm -rf "$DIR" && mkdir -p "$DIR/aucune"
measure() {
    /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KiB peak RSS" "$@" 2>&1 >/dev/null | tail -1
}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "generate $N foyers and last month's ($FORMAT): $(measure "$BIN" generate --foyers "$N" --mois 2025-03 --seed 1 --out "$DIR/extrait" --precedent "$DIR/precedent" --format "$FORMAT")"
du -sh "$DIR/extrait" "$DIR/precedent"
/usr/bin/time -f "%e s wall, %U s user, %S s system, %M KiB peak RSS" -o "$DIR/time.txt" "$BIN" screen --extract "$DIR/extrait" --precedent "$DIR/precedent" --mois 2025-03 --out "$DIR/out" --format "$FORMAT" "${BUDGET[@]}" 2>"$DIR/screen.log" >/dev/null
echo "screen with --precedent and the campaigns: $(tail -1 "$DIR/time.txt")"
grep -E "time per phase|memory budget|pieces" "$DIR/screen.log"
SCREEN=$(tail -1 "$DIR/time.txt" | cut -d' ' -f1)
START=$(date +%s.%N)
"${CARGO_TARGET_DIR:-target}/release/bare_scan" "$DIR/extrait" "$DIR/precedent" 2>/dev/null
BARE=$(echo "$(date +%s.%N) - $START" | bc)
echo "screen / bare scan of the same files: $(echo "scale=2; $SCREEN / $BARE" | bc)"
echo "screen without --precedent nor campaigns: $(measure "$BIN" screen --extract "$DIR/extrait" --mois 2025-03 --out "$DIR/out-seul" --campagnes "$DIR/aucune" --format "$FORMAT")"
wc -l "$DIR/out/"*.csv 2>/dev/null || true
cat "$DIR/out/campagnes/resume.csv"
cat "$DIR/out/campagnes/resume_bailleurs.csv" 2>/dev/null || true

# The same screen in one piece (the whole extract in memory at once) against the
# default (pieces of at most 50,000 foyers): peak memory and time of each, and their
# outputs compared byte for byte (crates/batch/src/evaluation.rs).
echo "screen in 1 piece: $(measure "$BIN" screen --extract "$DIR/extrait" --precedent "$DIR/precedent" --mois 2025-03 --out "$DIR/out-1" --partitions 1 --format "$FORMAT")"
for f in $(cd "$DIR/out" && find . -type f ! -name manifest.json | sort); do
    cmp -s "$DIR/out/$f" "$DIR/out-1/$f" || { echo "DIFFERENT: $f (default pieces vs 1)"; exit 1; }
done
echo "outputs of the default pieces and of 1 piece: identical"
