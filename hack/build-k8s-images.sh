#!/usr/bin/env bash
# Builds every image a kind node runs without pulling: the ones `kubeadm config images list`
# names (control plane, kube-proxy, etcd, CoreDNS, pause), the CNI daemon and kind's
# local-path storage images, all from the Go module proxy and Debian packages.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "${REPO_ROOT}/hack/build-kubernetes.sh"
bash "${REPO_ROOT}/hack/build-base-image.sh"
k8s_bin="${CACHE}/kubernetes/${KUBERNETES_VERSION}/bin"

# kubeadm writes these tags into the static pod manifests; a drift in versions.env would leave
# pods pulling from a registry, so stop here instead.
expected="$(printf '%s\n' "registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}" \
  "registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}" \
  "registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}" "registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}" \
  "registry.k8s.io/coredns/coredns:${COREDNS_VERSION}" "registry.k8s.io/pause:${PAUSE_VERSION}" \
  "registry.k8s.io/etcd:${ETCD_IMAGE_TAG}" | sort)"
actual="$("${k8s_bin}/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | sort)"
[[ $expected == "$actual" ]] ||
  die "kubeadm ${KUBERNETES_VERSION} names other images than hack/versions.env pins:"$'\n'"${actual}"

for c in kube-apiserver kube-controller-manager kube-scheduler; do
  tag="registry.k8s.io/${c}:${KUBERNETES_VERSION}"
  image_exists "$tag" || file_image "$tag" scratch "[\"/usr/local/bin/${c}\"]" "${k8s_bin}/${c}:usr/local/bin/${c}"
done
# kube-proxy shells out to iptables/conntrack, so it gets the node's own userland.
tag="registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}"
image_exists "$tag" ||
  file_image "$tag" "$KIND_BASE_IMAGE" '["/usr/local/bin/kube-proxy"]' "${k8s_bin}/kube-proxy:usr/local/bin/kube-proxy"

tag="registry.k8s.io/etcd:${ETCD_IMAGE_TAG}"
if ! image_exists "$tag"; then
  out="${CACHE}/etcd/v${ETCD_VERSION}/bin"
  if [[ ! -x "${out}/etcd" ]]; then
    # etcd's server module replaces its sibling modules with ../ paths; a wrapper module takes
    # the published ones its go.mod requires.
    src="${CACHE}/src/etcd-v${ETCD_VERSION}"
    mkdir -p "$src"
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"${src}/tools.go"
    printf 'module consul-chart.local/etcd-build\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" |
      go_wrapper_module "$src"
    log "building etcd v${ETCD_VERSION}"
    (cd "$src" && go_build -ldflags "$GO_LDFLAGS" -o "${out}/etcd" go.etcd.io/etcd/server/v3)
  fi
  file_image "$tag" scratch '["/usr/local/bin/etcd"]' "${out}/etcd:usr/local/bin/etcd"
fi

tag="registry.k8s.io/coredns/coredns:${COREDNS_VERSION}"
if ! image_exists "$tag"; then
  out="${CACHE}/coredns/${COREDNS_VERSION}/bin"
  go_install "github.com/coredns/coredns@${COREDNS_VERSION}" "$out" coredns
  # kubeadm's Deployment passes only args (-conf ...), so the entrypoint is the binary.
  file_image "$tag" scratch '["/coredns"]' "${out}/coredns:coredns"
fi

tag="registry.k8s.io/pause:${PAUSE_VERSION}"
if ! image_exists "$tag"; then
  out="${CACHE}/pause/${PAUSE_VERSION}/bin"
  mkdir -p "$out"
  # libc6-dev holds the static libc the pause binary links against.
  ensure_apt_packages gcc libc6-dev
  gcc -Os -static -DVERSION="v${PAUSE_VERSION}" -o "${out}/pause" \
    "$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")/build/pause/linux/pause.c"
  file_image "$tag" scratch '["/pause"]' "${out}/pause:pause"
fi

tag="$KINDNETD_IMAGE"
image_exists "$tag" ||
  file_image "$tag" "$KIND_BASE_IMAGE" '["/usr/local/bin/kindnetd"]' \
    "${REPO_ROOT}/hack/images/kindnetd.sh:usr/local/bin/kindnetd" "${k8s_bin}/kubectl:usr/local/bin/kubectl"

# kind's storage manifest names these two tags; read them from kind's source so they match.
kind_storage="$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION")/pkg/build/nodeimage/const_storage.go"
provisioner_tag="$(sed -n 's/^const storageProvisionerImage = "docker.io\/\(.*\)"$/\1/p' "$kind_storage")"
helper_tag="$(sed -n 's/^const storageHelperImage = "docker.io\/\(.*\)"$/\1/p' "$kind_storage")"
[[ -n $provisioner_tag && -n $helper_tag ]] || die "storage image names not found in ${kind_storage}"
if ! image_exists "$provisioner_tag"; then
  out="${CACHE}/local-path-provisioner/${LOCAL_PATH_PROVISIONER_VERSION}/bin"
  go_install "github.com/rancher/local-path-provisioner@${LOCAL_PATH_PROVISIONER_VERSION}" "$out" local-path-provisioner
  file_image "$provisioner_tag" scratch '["/usr/local/bin/local-path-provisioner"]' \
    "${out}/local-path-provisioner:usr/local/bin/local-path-provisioner"
fi
# The helper pod only runs sh, mkdir and rm: a static busybox is all it needs.
if ! image_exists "$helper_tag"; then
  ensure_apt_packages busybox-static
  file_image "${helper_tag}-bare" scratch '["/bin/sh"]' /bin/busybox:bin/busybox
  # No entrypoint, as upstream's: the provisioner gives the helper pod a command.
  printf 'FROM %s\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nENTRYPOINT []\nCMD ["/bin/sh"]\n' \
    "${helper_tag}-bare" | docker_build "$helper_tag" -
  docker rmi "${helper_tag}-bare" >/dev/null
fi
log "kubernetes system images: ready"
