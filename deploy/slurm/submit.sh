#!/bin/sh
# Submits the partitions, then the merge once all of them ended (afterany: the merge
# itself refuses a partition that is missing or incomplete, and says which).
#   REPERAGE_EXTRAIT=… REPERAGE_MOIS=2025-03 REPERAGE_SORTIE=… deploy/slurm/submit.sh
set -eu
here=$(dirname "$0")
jid=$(sbatch --parsable --export=ALL "$here/reperage-partitions.sbatch")
sbatch --dependency=afterany:"$jid" --export=ALL "$here/reperage-fusion.sbatch"
