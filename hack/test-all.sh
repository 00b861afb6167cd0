#!/usr/bin/env bash
# `make test`: every tier (lint, unit under helm 3 and 4, idle, cluster, chaos), each run even
# when one before it failed, so one run of CI tells everything it can; then a table of each
# tier's wall time, its counts and where the evidence of its failures is. Exits 1 if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
run="${CACHE}/runs/${stamp}.jsonl"
mkdir -p "${CACHE}/runs"
: >"$run"
# Each pytest session of the run appends its outcome here (harness/plugin.py).
export CONSUL_CHART_RUN="$run"
failed=0
began=$SECONDS

record() { # target, seconds, exit[, the target it ran beside]
  ((${3} == 0)) || failed=1
  printf '{"target": "%s", "seconds": %d, "exit": %d%s}\n' "$1" "$2" "$3" \
    "${4:+, \"beside\": \"$4\"}" >>"$run"
}

step() { # make target[, niceness]
  local start=$SECONDS rc=0
  nice -n "${2:-0}" make -C "$REPO_ROOT" --no-print-directory "$1" || rc=$?
  record "$1" $((SECONDS - start)) "$rc"
}

# The idle tier needs the cluster to itself (tests/idle/test_steady_state.py), but the lint and
# unit tiers touch no cluster: they run beside it at the lowest CPU priority, so the host's CPU
# goes to the kind nodes first. Its tox env is made first, and its run skips the package build:
# two tox runs building the harness in one .tox/.pkg at once would race. Its output and its
# session's outcome go to files of its own, printed and added to the run when it ends.
idle_run="${CACHE}/runs/${stamp}-idle.jsonl"
idle_log="${CACHE}/runs/${stamp}-idle.log"
idle_pid=
idle_start=$SECONDS
if make -C "$REPO_ROOT" --no-print-directory tools cluster &&
  (cd "$REPO_ROOT" && .venv/bin/tox -e idle --notest); then
  (cd "$REPO_ROOT" && CONSUL_CHART_RUN="$idle_run" exec .venv/bin/tox -e idle --skip-pkg-install) \
    >"$idle_log" 2>&1 &
  idle_pid=$!
  log "the idle tier runs beside lint and the unit tier; its output, when it ends: $idle_log"
fi
step lint 19
step test-unit 19
idle_rc=1
if [[ -n "$idle_pid" ]]; then
  idle_rc=0
  wait "$idle_pid" || idle_rc=$?
  cat "$idle_log"
  cat "$idle_run" >>"$run" 2>/dev/null || true
fi
record test-idle $((SECONDS - idle_start)) "$idle_rc" "lint, test-unit"

step test-cluster
step test-chaos
printf '{"wall": %d}\n' $((SECONDS - began)) >>"$run"
python3 "${REPO_ROOT}/harness/run_table.py" "$run"
exit "$failed"
