#!/usr/bin/env bash
# Imports docker image $1 into containerd on every node of the cluster, pinned, unless the node
# already holds that exact image. Replaces `kind load docker-image`, whose presence check runs
# crictl on the nodes (not packaged for bookworm, so it would reload every time) and which does
# not pin.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: $0 IMAGE"
image="$1"
image_id="$(docker image inspect -f '{{.Id}}' "$image")" || die "no local image ${image}"
# containerd names images fully qualified, as docker save's names are normalised on import.
if [[ $image != */* ]]; then
  ref="docker.io/library/${image}"
elif [[ ${image%%/*} == *[.:]* || ${image%%/*} == localhost ]]; then
  ref="$image"
else
  ref="docker.io/${image}"
fi

for node in $("${TOOLS_BIN}/kind" get nodes --name "$CLUSTER_NAME"); do
  if docker exec "$node" ctr --namespace=k8s.io images list -q \
    "name==${ref},labels.\"consul-chart/image-id\"==${image_id}" | grep -qx "$ref"; then
    continue
  fi
  log "loading ${image} into ${node}"
  docker save "$image" | docker exec -i "$node" ctr --namespace=k8s.io images import - >/dev/null
  docker exec "$node" ctr --namespace=k8s.io images label "$ref" io.cri-containerd.pinned=pinned \
    "consul-chart/image-id=${image_id}" >/dev/null
done
