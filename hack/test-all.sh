#!/usr/bin/env bash
# `make test`: every tier in turn (lint, unit under helm 3 and 4, idle, cluster, chaos), each run
# even when one before it failed, so one run of CI tells everything it can; then a table of each
# tier's wall time, its counts and where the evidence of its failures is. Exits 1 if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run="${CACHE}/runs/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p "${CACHE}/runs"
: >"$run"
# Each pytest session of the run appends its outcome here (harness/plugin.py).
export CONSUL_CHART_RUN="$run"
failed=0
began=$SECONDS
# The idle tier runs alone, before the cluster tier leaves namespaces terminating: its leader's
# 200 ms margin was lost beside the unit tier even at the lowest CPU priority (one interval of
# 252 ms in CI), and the lease itself beside the cluster tier (tests/idle/test_steady_state.py).
for target in lint test-unit test-idle test-cluster test-chaos; do
  start=$SECONDS
  rc=0
  make -C "$REPO_ROOT" --no-print-directory "$target" || rc=$?
  ((rc == 0)) || failed=1
  printf '{"target": "%s", "seconds": %d, "exit": %d}\n' "$target" $((SECONDS - start)) "$rc" >>"$run"
done
printf '{"wall": %d}\n' $((SECONDS - began)) >>"$run"
python3 "${REPO_ROOT}/harness/run_table.py" "$run"
exit "$failed"
