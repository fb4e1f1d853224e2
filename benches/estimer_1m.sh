#!/usr/bin/env bash
# Benchmark of the observatory's estimates at scale against the monthly screen of the
# same extract: generate N synthetic foyers (default 1,000,000) with last month's, then
# run `reperage screen` and `reperage estimer` (default dimensions, every benefit) on
# them, release build, each under GNU time (wall, CPU, peak memory). The done-when of
# issue 14: estimer within the time and memory of screen.
#
#   bash benches/estimer_1m.sh [N] [format csv|parquet] [estimer options…]
#
# screen and estimer run in turn RUNS times (default 3): on this machine one run's
# wall time varies by a few seconds, as much as the difference measured.
#
# Needs GNU time (/usr/bin/time, Debian package `time`). Record the results in
# docs/performance.md with the machine (lscpu, free -g).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
FORMAT="${2:-parquet}"
EXTRA=("${@:3}")
DIR="${BENCH_DIR:-/tmp/reperage-bench-estimer}"
BIN="${CARGO_TARGET_DIR:-target}/release/reperage"
cargo build --release -p reperage --locked
rm -rf "$DIR" && mkdir -p "$DIR"
measure() {
    /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KiB peak RSS" "$@" 2>&1 >/dev/null | tail -1
}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "generate $N foyers and last month's ($FORMAT): $(measure "$BIN" generate --foyers "$N" --mois 2025-03 --seed 1 --out "$DIR/extrait" --precedent "$DIR/precedent" --format "$FORMAT")"
for run in $(seq "${RUNS:-3}"); do
    echo "run $run, screen: $(measure "$BIN" screen --extract "$DIR/extrait" --precedent "$DIR/precedent" --mois 2025-03 --out "$DIR/screen" --format "$FORMAT")"
    /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KiB peak RSS" -o "$DIR/time.txt" \
        "$BIN" estimer --extract "$DIR/extrait" --precedent "$DIR/precedent" --mois 2025-03 --out "$DIR/estimations" --format "$FORMAT" "${EXTRA[@]}" \
        2>"$DIR/estimer.log" >/dev/null
    echo "run $run, estimer: $(tail -1 "$DIR/time.txt")"
done
# The stages as the command reports them (with their times), and what was protected.
grep -vE "^\s*$" "$DIR/estimer.log" | tail -20
python3 -c "
import json; m = json.load(open('$DIR/estimations/manifest.json'))
s = m['secret']
print('cells', sum(x['cellules'] for x in s), 'suppressed', sum(x['primaires'] + x['secondaires'] for x in s), 'of which secondary', sum(x['secondaires'] for x in s))
print('foyers', m['foyers'])
"
