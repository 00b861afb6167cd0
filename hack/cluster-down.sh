#!/usr/bin/env bash
# `make cluster-down`: deletes the kind cluster, its kubeconfig and Docker network. Images and
# build caches stay, so the next `make cluster` only recreates containers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kind="${TOOLS_BIN}/kind"
[[ -x $kind ]] || kind="${CACHE}/bin/kind-${KIND_VERSION}"
if [[ -x $kind ]] && docker info >/dev/null 2>&1 &&
  "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  "$kind" delete cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH"
else
  log "no cluster ${CLUSTER_NAME} to delete"
fi
rm -f "$KUBECONFIG_PATH"
if docker network inspect "$CLUSTER_NETWORK" >/dev/null 2>&1; then
  docker network rm "$CLUSTER_NETWORK" >/dev/null
  iptables -D DOCKER-USER -i "$CLUSTER_BRIDGE" ! -o "$CLUSTER_BRIDGE" -j DROP 2>/dev/null || true
fi
