#!/bin/sh
# Minimal stand-in for kind's kindnetd (whose module the Go proxy does not serve): writes this
# node's CNI config (ptp + host-local on its podCIDR) and routes every other node's podCIDR via
# that node's address. All nodes share one Docker network, so no encapsulation is needed. No
# masquerading: pods have no business reaching outside the machine. Runs as kind's manifest
# runs kindnetd: hostNetwork, NET_ADMIN, env HOST_IP.
set -eu
: "${HOST_IP:?HOST_IP must be set (downward API status.hostIP)}"
conf=/etc/cni/net.d/10-kindnet.conflist
sa=/var/run/secrets/kubernetes.io/serviceaccount

while true; do
  # Explicit in-cluster flags: kubectl ignores the in-cluster config once any flag such as
  # --request-timeout is given, and the short timeout matters until kube-proxy programs the VIP.
  # The token is reread each round: the kubelet rotates it.
  if nodes="$(kubectl get nodes -o json --request-timeout=5s \
    --server="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}" \
    --certificate-authority="${sa}/ca.crt" --token="$(cat "${sa}/token")")"; then
    printf '%s' "$nodes" | jq -r '.items[] | select(.spec.podCIDR) |
      "\(.spec.podCIDR) \(.status.addresses[] | select(.type == "InternalIP") | .address)"' |
      while read -r cidr ip; do
        if [ "$ip" = "$HOST_IP" ]; then
          want="$(jq -n --arg cidr "$cidr" '{cniVersion: "0.4.0", name: "kindnet", plugins: [
            {type: "ptp", ipMasq: false, mtu: 1500, ipam: {type: "host-local",
              dataDir: "/run/cni-ipam-state", routes: [{dst: "0.0.0.0/0"}],
              ranges: [[{subnet: $cidr}]]}},
            {type: "portmap", capabilities: {portMappings: true}}]}')"
          if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
            printf '%s\n' "$want" >"$conf.tmp" && mv "$conf.tmp" "$conf"
            echo "wrote $conf for $cidr"
          fi
        else
          ip route replace "$cidr" via "$ip"
        fi
      done
  fi
  sleep 10
done
