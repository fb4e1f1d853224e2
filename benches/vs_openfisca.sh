#!/usr/bin/env bash
# Side-by-side benchmark (issue 4): the same N generated foyers (default 100,000),
# `reperage screen` (release build) against OpenFisca-France computing the same four
# benefits (ASPA, RSA, prime d'activité, CSS), wall time and peak memory of each.
#
#   bash benches/vs_openfisca.sh [N] [MOIS]
#
# Needs GNU time and the cross-check's virtual environment (created by
# tests/crossval/run.sh on first use). Record the output in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
MOIS="${2:-2025-03}"
DIR="${BENCH_DIR:-/tmp/reperage-vs-openfisca}"
BIN="${CARGO_TARGET_DIR:-target}/release/reperage"
. tests/crossval/venv.sh
cargo build --release -p reperage --locked
rm -rf "$DIR" && mkdir -p "$DIR"
measure() {
    /usr/bin/time -f "%e s wall, %M KiB peak RSS" "$@" 2>&1 >/dev/null | tail -1
}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
"$BIN" generate --foyers "$N" --mois "$MOIS" --seed 7 --out "$DIR/extrait" >/dev/null
echo "reperage screen, $N foyers, all rules: $(measure "$BIN" screen --extract "$DIR/extrait" --mois "$MOIS" --out "$DIR/out")"
/usr/bin/time -f "openfisca total: %e s wall, %M KiB peak RSS" \
    "$VENV/bin/python" benches/openfisca_compute.py "$DIR/extrait" "$MOIS" 2>&1 | tail -2
