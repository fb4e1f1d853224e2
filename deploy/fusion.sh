#!/bin/sh
# The merge after every partition of a run finished (deploy/partition.sh): writes
# REPERAGE_SORTIE/resultat, exactly what one `reperage screen` of the whole extract writes.
# Installed in the container as /usr/local/bin/reperage-fusion.
#
# Environment: REPERAGE_SORTIE, REPERAGE_PARTITIONS as for partition.sh; REPERAGE_REGLES
# and REPERAGE_CAMPAGNES if the partitions were given --rules / --campagnes; REPERAGE_BIN.
# `reperage fusionner` refuses a missing or duplicated partition, partitions of another
# month, rules or options, and a partition folder changed since its run.
set -eu
: "${REPERAGE_SORTIE:?the run folder}" "${REPERAGE_PARTITIONS:?the number of partitions}"

set -- fusionner --out "$REPERAGE_SORTIE/resultat"
k=0
while [ "$k" -lt "$REPERAGE_PARTITIONS" ]; do
    set -- "$@" "$REPERAGE_SORTIE/parties/$k"
    k=$((k + 1))
done
if [ -n "${REPERAGE_REGLES:-}" ]; then
    set -- "$@" --rules "$REPERAGE_REGLES"
fi
if [ -n "${REPERAGE_CAMPAGNES:-}" ]; then
    set -- "$@" --campagnes "$REPERAGE_CAMPAGNES"
fi
exec "${REPERAGE_BIN:-reperage}" "$@"
