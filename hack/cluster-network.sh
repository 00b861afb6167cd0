#!/usr/bin/env bash
# Creates the Docker network the kind nodes join (kind uses it through
# KIND_EXPERIMENTAL_DOCKER_NETWORK) and keeps its traffic on this machine: no masquerading, and
# a DOCKER-USER rule drops whatever the nodes or their pods would route off the bridge. The
# host still reaches the nodes (published API port, container addresses), and they reach it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! docker network inspect "$CLUSTER_NETWORK" >/dev/null 2>&1; then
  log "creating Docker network ${CLUSTER_NETWORK} (bridge ${CLUSTER_BRIDGE})"
  docker network create --driver bridge \
    --opt com.docker.network.bridge.name="$CLUSTER_BRIDGE" \
    --opt com.docker.network.bridge.enable_ip_masquerade=false \
    --opt com.docker.network.driver.mtu=1500 \
    "$CLUSTER_NETWORK" >/dev/null
fi
[[ "$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$CLUSTER_NETWORK")" == "$CLUSTER_BRIDGE" ]] ||
  die "Docker network ${CLUSTER_NETWORK} exists without bridge ${CLUSTER_BRIDGE}: remove it (docker network rm ${CLUSTER_NETWORK})"

if [[ $EUID -ne 0 ]]; then
  log "warning: not root, so no firewall rule keeps ${CLUSTER_NETWORK} traffic on this machine"
  exit 0
fi
iptables -n -L DOCKER-USER >/dev/null 2>&1 ||
  die "no DOCKER-USER chain: dockerd must run with its iptables management on"
rule=(DOCKER-USER -i "$CLUSTER_BRIDGE" ! -o "$CLUSTER_BRIDGE" -j DROP)
iptables -C "${rule[@]}" 2>/dev/null || iptables -I "${rule[@]}"
