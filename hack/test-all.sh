#!/usr/bin/env bash
# `make test`: every tier in turn (lint, unit under helm 3 and 4, cluster with the idle tier
# beside it, chaos), each run even when one before it failed, so one run of CI tells everything
# it can; then a table of each tier's wall time, its counts and where the evidence of its
# failures is. Exits 1 if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
run="${CACHE}/runs/${stamp}.jsonl"
mkdir -p "${CACHE}/runs"
: >"$run"
# Each pytest session of the run appends its outcome here (harness/plugin.py).
export CONSUL_CHART_RUN="$run"
failed=0

record() { # target, seconds, exit
  ((${3} == 0)) || failed=1
  printf '{"target": "%s", "seconds": %d, "exit": %d}\n' "$1" "$2" "$3" >>"$run"
}

step() { # make target
  local start=$SECONDS rc=0
  make -C "$REPO_ROOT" --no-print-directory "$1" || rc=$?
  record "$1" $((SECONDS - start)) "$rc"
}

step lint
step test-unit

# The idle tier watches a release of its own for minutes while the cluster tier works beside it:
# that tier touches no node and no release but its own (node faults are the chaos tier's). It
# starts once the cluster is up, through tox directly (its make dependencies are the cluster
# tier's, already met), with its output and its sessions' outcomes in files of its own, printed
# and added to the run when it ends, so the table lists it on its own row.
idle_run="${CACHE}/runs/${stamp}-idle.jsonl"
idle_log="${CACHE}/runs/${stamp}-idle.log"
idle_pid=
if make -C "$REPO_ROOT" --no-print-directory tools cluster; then
  (
    start=$SECONDS rc=0
    (cd "$REPO_ROOT" && CONSUL_CHART_RUN="$idle_run" .venv/bin/tox -e idle) || rc=$?
    printf '{"target": "test-idle", "beside": "test-cluster", "seconds": %d, "exit": %d}\n' \
      $((SECONDS - start)) "$rc" >>"$idle_run"
    exit "$rc"
  ) >"$idle_log" 2>&1 &
  idle_pid=$!
  log "the idle tier runs beside the cluster tier; its output, when it ends: $idle_log"
fi
step test-cluster
idle_rc=1
if [[ -n "$idle_pid" ]]; then
  idle_rc=0
  wait "$idle_pid" || idle_rc=$?
  cat "$idle_log"
  cat "$idle_run" >>"$run"
else
  printf '{"target": "test-idle", "beside": "test-cluster", "seconds": 0, "exit": 1}\n' >>"$run"
fi
((idle_rc == 0)) || failed=1

step test-chaos
python3 "${REPO_ROOT}/harness/run_table.py" "$run"
exit "$failed"
