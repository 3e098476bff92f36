#!/usr/bin/env bash
# Make a run record from committed code only: check out HEAD into a temporary worktree,
# run `alexnet run|bench ...` there (one heavy job at a time on this machine, via a lock),
# and write the record into this checkout's results/. Provenance then says dirty=false.
# ALEXNET_LOCK=/tmp/other.lock runs a second one-thread job beside the first.
#   scripts/run-clean.sh run relu_vs_tanh --preset cpu
#   scripts/run-clean.sh bench data
#   ALEXNET_COMMIT=abc1234 scripts/run-clean.sh run lrn --preset cpu   # from a given commit
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse "${ALEXNET_COMMIT:-HEAD}")   # ALEXNET_COMMIT=<rev>: a record from another commit
wt=$(mktemp -d /tmp/alexnet-clean-XXXXXX)
git -C "$root" worktree add --detach "$wt" "$commit" >/dev/null
trap 'git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || true' EXIT
if [ -z "${ALEXNET_DATA:-}" ] && [ -d "$root/../shared/data" ]; then
  export ALEXNET_DATA=$(cd "$root/../shared/data" && pwd)
fi
export ALEXNET_RESULTS="$root/results" ALEXNET_RUNS="$root/runs/${commit:0:10}" PYTHONPATH="$wt/src"
cd "$wt"
extra=()
[ "$1" = run ] && extra=(--results "$root/results")
flock "${ALEXNET_LOCK:-/tmp/alexnet-cpu.lock}" "$root/.venv/bin/python" -m alexnet "$@" "${extra[@]}"
