#!/usr/bin/env bash
# Cross-check reperage against OpenFisca-France (issue 4).
#   bash tests/crossval/run.sh [FOYERS] [MOIS] [SEED]
# Installs openfisca-france in tests/crossval/.venv (from PyPI), generates an extract,
# screens it, and compares the benefits month by month. Exit 0 when every benefit
# agrees within 1 € on at least 99 % of the compared foyers.
set -euo pipefail
cd "$(dirname "$0")/../.."
FOYERS="${1:-5000}"
MOIS="${2:-2025-03}"
SEED="${3:-11}"
. tests/crossval/venv.sh
BIN="${CARGO_TARGET_DIR:-target}/debug/reperage"
cargo build -q -p reperage
WORK="out/crossval/$MOIS-$FOYERS"
rm -rf "$WORK" && mkdir -p "$WORK"
"$BIN" generate --foyers "$FOYERS" --mois "$MOIS" --seed "$SEED" --out "$WORK/extrait"
"$BIN" screen --extract "$WORK/extrait" --mois "$MOIS" --out "$WORK/screen" 2>/dev/null
"$VENV/bin/python" tests/crossval/crossval.py "$WORK/extrait" "$WORK/screen/eligibilites.csv" "$MOIS"
