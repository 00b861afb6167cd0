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

record() { # $1: the file its line goes to, $2: its name in the table, then the make targets
  local out=$1 name=$2 start=$SECONDS rc=0
  shift 2
  make -C "$REPO_ROOT" --no-print-directory "$@" || rc=$?
  ((rc == 0)) || failed=1
  printf '{"target": "%s", "seconds": %d, "exit": %d}\n' "$name" $((SECONDS - start)) "$rc" >>"$out"
}

# The tools first, so that nothing below builds the same tool twice at once.
record "$run" tools tools
# The cluster (and the older Consul image of the chaos tier) comes up beside lint and the unit
# tier, which need neither: starting stopped nodes takes about a minute, building everything on a
# new machine about 17. Its output waits in a file, so that the logs do not interleave. A
# background job of a script ignores SIGINT: Ctrl-C stops it through the trap.
up_log="${run%.jsonl}-cluster.log"
: >"${up_log}.json"
(
  failed=0
  record "${up_log}.json" cluster cluster previous-consul
  exit "$failed"
) >"$up_log" 2>&1 &
up=$!
trap 'trap - INT TERM; kill 0' INT TERM
record "$run" lint lint
record "$run" test-unit test-unit
# The three tiers on the cluster share this environment; made now, it costs the idle tier nothing.
"${REPO_ROOT}/.venv/bin/tox" -c "${REPO_ROOT}/tox.ini" -e kind --notest -q || failed=1
log "cluster: its log so far, then on until it is up"
tail -n +1 -f --pid="$up" "$up_log"
wait "$up" || failed=1
cat "${up_log}.json" >>"$run"
# The idle tier runs alone, before the cluster tier leaves namespaces terminating: its leader's
# 200 ms margin was lost beside the unit tier even at the lowest CPU priority (one interval of
# 252 ms in CI), and the lease itself beside the cluster tier (tests/idle/test_steady_state.py).
for t in test-idle test-cluster test-chaos; do record "$run" "$t" "$t"; done
printf '{"wall": %d}\n' $((SECONDS - began)) >>"$run"
python3 "${REPO_ROOT}/harness/run_table.py" "$run"
exit "$failed"
