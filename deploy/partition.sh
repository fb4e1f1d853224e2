#!/bin/sh
# One partition of a partitioned screen, as a scheduler runs it: Kubernetes (Indexed
# Job: JOB_COMPLETION_INDEX) or Slurm (job array: SLURM_ARRAY_TASK_ID). Installed in the
# container as /usr/local/bin/reperage-partition (deploy/Containerfile).
#
# Environment:
#   REPERAGE_EXTRAIT     the extract folder, shared by every partition (read only)
#   REPERAGE_MOIS        the reference month, YYYY-MM
#   REPERAGE_SORTIE      the run's folder: partition K writes REPERAGE_SORTIE/parties/K
#   REPERAGE_PARTITIONS  N, the number of partitions (the Job's completions, the array's size)
#   REPERAGE_PRECEDENT   last month's extract (optional)
#   REPERAGE_OPTIONS     further `reperage screen` options, e.g. "--format both" (optional)
#   REPERAGE_BIN         the reperage binary (default: reperage, from PATH)
# Exit code: that of `reperage screen`, except 2 (--strict and rows were quarantined),
# which is an answer, not a failure to retry: it exits 0, the partition's manifest says
# `arret_strict`, and the merge stops at the quarantine and exits 2 as one run would.
set -eu

indice="${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}"
if [ -z "$indice" ]; then
    echo "reperage-partition: neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set" >&2
    exit 1
fi
: "${REPERAGE_EXTRAIT:?the extract folder}" "${REPERAGE_MOIS:?the month YYYY-MM}"
: "${REPERAGE_SORTIE:?the run folder}" "${REPERAGE_PARTITIONS:?the number of partitions}"

mkdir -p "$REPERAGE_SORTIE/parties"
set -- screen --extract "$REPERAGE_EXTRAIT" --mois "$REPERAGE_MOIS" \
    --partition "$indice/$REPERAGE_PARTITIONS" --out "$REPERAGE_SORTIE/parties/$indice"
if [ -n "${REPERAGE_PRECEDENT:-}" ]; then
    set -- "$@" --precedent "$REPERAGE_PRECEDENT"
fi
# Word-split on purpose: a list of options.
# shellcheck disable=SC2086
status=0
"${REPERAGE_BIN:-reperage}" "$@" ${REPERAGE_OPTIONS:-} || status=$?
if [ "$status" -eq 2 ]; then
    echo "reperage-partition: partition $indice stopped at the quarantine (--strict); the merge will report it" >&2
    exit 0
fi
exit "$status"
