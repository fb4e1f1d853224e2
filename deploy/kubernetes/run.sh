#!/bin/sh
# Runs the partitions, waits for all of them, then the merge.
set -eu
here=$(dirname "$0")
kubectl delete job reperage-partitions reperage-fusion --ignore-not-found
kubectl apply -f "$here/reperage-partitions.yaml"
kubectl wait --for=condition=complete --timeout=6h job/reperage-partitions
kubectl apply -f "$here/reperage-fusion.yaml"
kubectl wait --for=condition=complete --timeout=1h job/reperage-fusion
