#!/usr/bin/env bash
# Builds the kind CLI and links it and kubectl (at the cluster's version) into .tools/bin.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kind_bin="${CACHE}/bin/kind-${KIND_VERSION}"
if [[ ! -x $kind_bin ]]; then
  go_install "sigs.k8s.io/kind@${KIND_VERSION}" "${CACHE}/tmp/kind-gobin" kind
  mkdir -p "${CACHE}/bin"
  mv "${CACHE}/tmp/kind-gobin/kind" "$kind_bin"
  rm -rf "${CACHE}/tmp/kind-gobin"
fi
link_tool "$kind_bin" kind

bash "${REPO_ROOT}/hack/build-kubernetes.sh" kubectl
link_tool "${CACHE}/kubernetes/${KUBERNETES_VERSION}/bin/kubectl" kubectl
