#!/usr/bin/env bash
# `make cluster`: a kind cluster "consul-chart" (1 control-plane + 3 workers) from images built
# on this machine, with the local Consul image loaded into every node. Idempotent: a second run
# reuses the images and a healthy cluster. KIND_NODE_IMAGE / CONSUL_IMAGE name registry images
# to use instead of building (pulled if missing).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_image="${KIND_NODE_IMAGE:-}"
consul_image="${CONSUL_IMAGE:-}"
kind="${TOOLS_BIN}/kind"
kubectl=("${TOOLS_BIN}/kubectl" --kubeconfig "$KUBECONFIG_PATH")
# How long restarted nodes get for their API to answer before the cluster is recreated instead.
API_RESTART_SECONDS=120

# kind's known-issues page asks for this with several nodes (each runs systemd + kubelet);
# before dockerd starts, since dockerd restarts existing nodes itself.
if (($(cat /proc/sys/fs/inotify/max_user_instances) < 512)); then
  need_root "raising fs.inotify.max_user_instances to 512"
  sysctl -qw fs.inotify.max_user_instances=512
fi
bash "${REPO_ROOT}/hack/start-dockerd.sh"
# jq edits CoreDNS's Corefile below (the build scripts install what they use themselves).
ensure_apt_packages jq
bash "${REPO_ROOT}/hack/install-cli.sh"

use_image() { # $1: image named by the user (pulled if missing), $2: build script otherwise
  if [[ -n $1 ]]; then
    image_exists "$1" || docker pull "$1"
  else
    bash "${REPO_ROOT}/hack/$2"
  fi
}
use_image "$node_image" build-node-image.sh
node_image="${node_image:-$BUILT_NODE_IMAGE}"
use_image "$consul_image" build-consul-image.sh
consul_image="${consul_image:-$BUILT_CONSUL_IMAGE}"

# The network (and its firewall rule) comes first: a restarted node must not route off the bridge.
bash "${REPO_ROOT}/hack/cluster-network.sh"
api_ready() { "${kubectl[@]}" get --raw /readyz --request-timeout=10s >/dev/null 2>&1; }
nodes=(--filter "label=io.x-k8s.kind.cluster=${CLUSTER_NAME}")
node_exited() { docker ps -aq "${nodes[@]}" --filter status=exited | grep -q .; }
# Reuse a cluster only if it runs the wanted node image (same ID, not only tag) and its API
# answers. Nodes stopped with dockerd (a reboot, a CI machine that starts with dockerd down)
# are started again: that takes about a minute, recreating takes several.
if "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  running_image="$(docker inspect -f '{{.Image}}' "${CLUSTER_NAME}-control-plane" 2>/dev/null || true)"
  reuse=false
  if [[ $running_image == "$(docker image inspect -f '{{.Id}}' "$node_image")" ]]; then
    mapfile -t stopped < <(docker ps -aq "${nodes[@]}" --filter status=exited --filter status=created)
    started_again=true
    if ((${#stopped[@]} > 0)); then
      log "cluster ${CLUSTER_NAME}: starting ${#stopped[@]} stopped node(s)"
      # A node whose processes were killed with containerd can leave a task behind ("task …
      # already exists"): such a node never starts again, so the cluster is recreated.
      docker start "${stopped[@]}" >/dev/null || started_again=false
    fi
    # Read after the start: a stopped node publishes no API port, and it can change.
    "$kind" get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH" 2>/dev/null || true
    # Nodes dockerd itself just restarted answer after 20-40 s; a node that exits again ends
    # the wait early.
    for _ in $(seq "$((API_RESTART_SECONDS / 5))"); do
      if ! $started_again || api_ready; then break; fi
      if node_exited; then
        # Kept for the next look: why a node did not survive its restart.
        docker ps -a "${nodes[@]}" --format '{{.Names}}: {{.Status}}' >&2
        docker logs --tail 20 "${CLUSTER_NAME}-control-plane" >&2 || true
        break
      fi
      sleep 5
    done
    if $started_again && api_ready && ! node_exited; then reuse=true; fi
  fi
  if $reuse; then
    log "cluster ${CLUSTER_NAME}: reusing"
  else
    log "cluster ${CLUSTER_NAME}: stale (other node image, API down or a node that did not start), recreating"
    "$kind" delete cluster --name "$CLUSTER_NAME"
  fi
fi
if ! "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "cluster ${CLUSTER_NAME}: creating from ${node_image}"
  KIND_EXPERIMENTAL_DOCKER_NETWORK="$CLUSTER_NETWORK" "$kind" create cluster --name "$CLUSTER_NAME" \
    --image "$node_image" --kubeconfig "$KUBECONFIG_PATH" --config - <<'YAML'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
  - role: worker
  - role: worker
YAML
fi
chmod 0600 "$KUBECONFIG_PATH"

# Ready only counts when it was said since the nodes last started: after a restart the API
# shows the Ready that nodes and pods had before they stopped, and CoreDNS answers SERVFAIL
# until it reaches the API again. $1: field of the Ready condition, $2: count, the rest: what to
# get.
started="$(docker inspect -f '{{.State.StartedAt}}' "${CLUSTER_NAME}-control-plane" | cut -c1-19)Z"
ready_since_start() {
  "${kubectl[@]}" get "${@:3}" -o jsonpath="{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status} {.status.conditions[?(@.type==\"Ready\")].$1}{\"\\n\"}{end}" |
    awk -v since="$started" -v want="$2" '$1 == "True" && $2 >= since {n++} END {exit n != want}'
}
wait_ready_since_start() {
  log "waiting for $2 Ready since ${started}: kubectl get ${*:3}"
  for _ in $(seq 60); do
    ready_since_start "$@" && return
    sleep 5
  done
  "${kubectl[@]}" get "${@:3}" -o wide >&2
  die "not $2 Ready since ${started}: kubectl get ${*:3}"
}
wait_ready_since_start lastHeartbeatTime 4 nodes

# Nothing may resolve through a resolver outside this machine: drop CoreDNS's upstream, so
# names outside cluster.local fail instead of being forwarded.
corefile="$("${kubectl[@]}" -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')"
if grep -q 'forward \. ' <<<"$corefile"; then
  log "CoreDNS: removing the upstream forwarder"
  "${kubectl[@]}" -n kube-system get configmap coredns -o json |
    jq '.data.Corefile |= sub("\\n[ \\t]*forward \\. [^{\\n]*\\{[^}]*\\}"; "")' |
    "${kubectl[@]}" replace -f - >/dev/null
  "${kubectl[@]}" -n kube-system rollout restart deployment/coredns >/dev/null
fi
"${kubectl[@]}" -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
wait_ready_since_start lastTransitionTime \
  "$("${kubectl[@]}" -n kube-system get deployment coredns -o jsonpath='{.spec.replicas}')" \
  -n kube-system pods -l k8s-app=kube-dns

bash "${REPO_ROOT}/hack/load-image.sh" "$consul_image"

# NetworkPolicy enforcement, so the chart's policy is tested rather than only rendered.
bash "${REPO_ROOT}/hack/build-network-policies.sh"
bash "${REPO_ROOT}/hack/load-image.sh" "$KUBE_NETWORK_POLICIES_IMAGE"
sed "s#image: IMAGE#image: ${KUBE_NETWORK_POLICIES_IMAGE}#" "${REPO_ROOT}/hack/kube-network-policies.yaml" |
  "${kubectl[@]}" apply -f - >/dev/null
"${kubectl[@]}" -n kube-system rollout status daemonset/kube-network-policies --timeout=180s >/dev/null

# A CoreDNS pod is Ready before every kube-proxy routes the Service to it: in that gap the
# Service IP is rejected ("Connection refused", kube-proxy's rule for a Service without
# endpoints), as CI met in the seconds after CoreDNS turned Ready: a single nslookup failed the
# run. So the pod asks once a second until it gets an answer, for at most 120 attempts.
log "waiting for CoreDNS to answer through its Service from a pod"
check=(-n default pod/consul-chart-dns-check)
"${kubectl[@]}" delete "${check[@]}" --ignore-not-found >/dev/null
"${kubectl[@]}" -n default run consul-chart-dns-check --restart=Never --image="$consul_image" \
  --image-pull-policy=IfNotPresent --command -- sh -c \
  'for s in $(seq 120); do nslookup kubernetes.default.svc.cluster.local >/dev/null 2>&1 && { echo "answered at attempt ${s}"; exit 0; }; sleep 1; done; nslookup kubernetes.default.svc.cluster.local; exit 1' \
  >/dev/null
if ! "${kubectl[@]}" wait "${check[@]}" --for=jsonpath='{.status.phase}'=Succeeded --timeout=180s >/dev/null; then
  "${kubectl[@]}" logs "${check[@]}" >&2 || true
  die "CoreDNS did not resolve kubernetes.default.svc.cluster.local from a pod in 120 attempts"
fi
log "CoreDNS: $("${kubectl[@]}" logs "${check[@]}")"
"${kubectl[@]}" delete "${check[@]}" --wait=false >/dev/null
log "cluster ${CLUSTER_NAME}: ready; export KUBECONFIG=${KUBECONFIG_PATH}"
