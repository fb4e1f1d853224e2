#!/usr/bin/env bash
# Benchmark of a partitioned run as a scheduler runs it (deploy/partition.sh, then
# deploy/fusion.sh): the extract `benches/screen_1m.sh` generated (default
# /tmp/reperage-bench), screened as N partitions one after the other (default 4), then
# merged by `fusionner`. Prints each partition's and the merge's wall time and peak
# memory, the size of what the merge reads (the household candidates, candidats.jsonl,
# and the landlords' tenants, locataires.jsonl: partition 0 holds every landlord of the
# table), the landlord lists' summary, and compares the merged outputs byte for byte
# with the single run `screen_1m.sh` wrote (manifests aside).
#
#   bash benches/screen_1m.sh 1000000 parquet && bash benches/partitions_1m.sh [N]
#
# Needs GNU time (/usr/bin/time). Record the results in docs/performance.md with the
# machine (lscpu, free -g).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-4}"
DIR="${BENCH_DIR:-/tmp/reperage-bench}"
BIN="${CARGO_TARGET_DIR:-target}/release/reperage"
test -d "$DIR/extrait" && test -d "$DIR/out" || { echo "run benches/screen_1m.sh first" >&2; exit 1; }
FORMAT=csv
ls "$DIR/extrait"/*.parquet > /dev/null 2>&1 && FORMAT=parquet
rm -rf "$DIR/run" && mkdir -p "$DIR/run/parties"
measure() {
    /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KiB peak RSS" "$@" 2>&1 >/dev/null | tail -1
}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for k in $(seq 0 $((N - 1))); do
    echo "partition $k/$N: $(measure "$BIN" screen --extract "$DIR/extrait" --precedent "$DIR/precedent" --mois 2025-03 \
        --partition "$k/$N" --out "$DIR/run/parties/$k" --format "$FORMAT")"
done
du -ch "$DIR"/run/parties/*/candidats.jsonl | tail -1 | sed 's/^/candidats.jsonl, all partitions: /'
du -ch "$DIR"/run/parties/*/locataires.jsonl | tail -1 | sed 's/^/locataires.jsonl, all partitions: /'
wc -l "$DIR"/run/parties/*/locataires.jsonl | tail -1 | sed 's/^ */locataires.jsonl lines: /'
PARTS=()
for k in $(seq 0 $((N - 1))); do PARTS+=("$DIR/run/parties/$k"); done
echo "fusionner: $(measure "$BIN" fusionner "${PARTS[@]}" --out "$DIR/run/resultat")"
cat "$DIR/run/resultat/campagnes/resume_bailleurs.csv"
for f in $(cd "$DIR/out" && find . -type f ! -name manifest.json | sort); do
    cmp -s "$DIR/out/$f" "$DIR/run/resultat/$f" || { echo "DIFFERENT: $f (single run vs merged partitions)"; exit 1; }
done
echo "outputs of the single run and of the $N merged partitions: identical"
