#!/usr/bin/env bash
# `make previous-consul`: the older Consul release the chaos tier upgrades from
# (CONSUL_PREVIOUS_VERSION), built by the same script as the chart's own and loaded into every
# node of the cluster. CONSUL_PREVIOUS_IMAGE names a registry image to use instead (pulled if
# missing).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

image="${CONSUL_PREVIOUS_IMAGE:-}"
if [[ -n $image ]]; then
  image_exists "$image" || docker pull "$image"
else
  CONSUL_BUILD_VERSION="$CONSUL_PREVIOUS_VERSION" CONSUL_BUILD_API_VERSION="$CONSUL_PREVIOUS_API_VERSION" \
    bash "${REPO_ROOT}/hack/build-consul-image.sh"
  image="hashicorp/consul:${CONSUL_PREVIOUS_VERSION}"
fi
bash "${REPO_ROOT}/hack/load-image.sh" "$image"
