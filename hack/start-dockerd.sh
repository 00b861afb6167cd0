#!/usr/bin/env bash
# Starts a Docker engine (Debian's docker.io) when none answers; logs to $CACHE/dockerd.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if docker info >/dev/null 2>&1; then
  exit 0
fi
need_root "starting dockerd (no Docker engine answers)"
ensure_apt_packages docker.io
mkdir -p "$CACHE"

args=()
# kind runs every node --privileged; where the bounding set lacks a capability runc cannot
# grant it, so containers go through a wrapper that drops it (a normal host runs plain runc).
# dockerd runs the wrapper as root for every container, so it lives in a root-owned directory
# nobody else can write (not the cache, not this work tree).
bounding=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
if ((bounding != (1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1)); then
  ensure_apt_packages jq runc
  install -d -o root -g root -m 0755 "$RUNTIME_WRAPPER_DIR"
  install -o root -g root -m 0755 "${REPO_ROOT}/hack/runc-drop-caps.sh" "${RUNTIME_WRAPPER_DIR}/runc-drop-caps"
  args+=(--add-runtime "capdrop=${RUNTIME_WRAPPER_DIR}/runc-drop-caps" --default-runtime capdrop)
  log "capability bounding set is incomplete: containers run through runc-drop-caps"
fi
log "starting dockerd (log: ${CACHE}/dockerd.log)"
setsid nohup dockerd "${args[@]}" >>"${CACHE}/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
die "dockerd did not answer within 60s; see ${CACHE}/dockerd.log"
