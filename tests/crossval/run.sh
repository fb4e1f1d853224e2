#!/usr/bin/env bash
# Cross-check reperage against OpenFisca-France on adversarial households (issue 10).
#   bash tests/crossval/run.sh [FOYERS] [SEED] [MOIS ...]
# Defaults: 5,000 foyers, seed 11, the months 2025-03 (first month of the 2025 reference
# period), 2025-05 (after the April 2025 revaluation), 2025-08 (the allocation de rentrée
# scolaire, compared in August only; the housing aid's barème of October 2024), 2025-10
# (after the October 2025 revaluation of the housing aid; the same barème as December),
# 2026-01 (after January: the housing aid's R0, not revalued for 2026) and 2026-05 (after
# April 2026).
# Installs openfisca-france in tests/crossval/.venv (from PyPI) on first use; for each
# month, draws an extract with tests/crossval/adversarial.py (independent of reperage's
# generator), screens it, and compares the benefits (tests/crossval/crossval.py).
# Exits non-zero as soon as a month misses the target (docs/crossval.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
FOYERS="${1:-5000}"
SEED="${2:-11}"
shift $(( $# < 2 ? $# : 2 ))
MONTHS=("$@")
[ ${#MONTHS[@]} -gt 0 ] || MONTHS=(2025-03 2025-05 2025-08 2025-10 2026-01 2026-05)
. tests/crossval/venv.sh
BIN="${CARGO_TARGET_DIR:-target}/debug/reperage"
cargo build -q -p reperage
for MOIS in "${MONTHS[@]}"; do
    WORK="out/crossval/$MOIS-$FOYERS"
    rm -rf "$WORK" && mkdir -p "$WORK"
    echo "== $MOIS: $FOYERS adversarial foyers (seed $SEED)"
    "$VENV/bin/python" tests/crossval/crossval.py generate "$WORK/extrait" "$MOIS" "$FOYERS" "$SEED"
    "$BIN" screen --extract "$WORK/extrait" --mois "$MOIS" --out "$WORK/screen" 2>"$WORK/screen.log"
    "$VENV/bin/python" tests/crossval/crossval.py compare "$WORK/extrait" "$WORK/screen/eligibilites.csv" "$MOIS" \
        --report "$WORK/rapport.json"
done
