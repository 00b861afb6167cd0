#!/usr/bin/env bash
# Builds the kind node image kindest/node:${KUBERNETES_VERSION} the way kind's pkg/build/nodeimage does (run the
# base image, copy the Kubernetes binaries in, write /kind/version and the default CNI/storage
# manifests, import every image into containerd pinned, commit), but from locally built images
# only: `kind build node-image` fetches etcd/CoreDNS/pause/kindnetd from registries.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tag="$BUILT_NODE_IMAGE"
recipe="${KIND_BASE_IMAGE} ${KINDNETD_IMAGE}"
if image_current "$tag" "$recipe"; then
  log "node image ${tag}: present"
  exit 0
fi
bash "${REPO_ROOT}/hack/build-k8s-images.sh"
k8s_bin="${CACHE}/kubernetes/${KUBERNETES_VERSION}/bin"
nodeimage="$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION")/pkg/build/nodeimage"

# Prints Go raw-string constant $2 of file $1 with `+ name +` references to string constants
# resolved, and the kindnetd image swapped for our stand-in.
go_manifest() {
  awk -v name="$2" '
    /^const [A-Za-z]+ = "/ { v = $4; gsub(/"/, "", v); consts[$2] = v }
    $0 == "const " name " = `" { inside = 1; next }
    inside && $0 == "`" { exit }
    inside {
      while (match($0, /` \+ [A-Za-z]+ \+ `/)) {
        ref = substr($0, RSTART + 4, RLENGTH - 8)
        $0 = substr($0, 1, RSTART - 1) consts[ref] substr($0, RSTART + RLENGTH)
      }
      print
    }' "$1" | sed "s#image: docker.io/kindest/kindnetd:.*#image: ${KINDNETD_IMAGE}#"
}

images=("${KINDNETD_IMAGE}")
mapfile -t -O 1 images < <("${k8s_bin}/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null)
mapfile -t -O "${#images[@]}" images < <(sed -n 's/^const storage\(Provisioner\|Helper\)Image = "docker.io\/\(.*\)"$/\2/p' "${nodeimage}/const_storage.go")

build="kind-build-$$"
trap 'docker rm -f -v "$build" >/dev/null 2>&1 || true' EXIT
log "node image ${tag}: assembling in container ${build}"
docker run -d --name "$build" --entrypoint=sleep --security-opt seccomp=unconfined "$KIND_BASE_IMAGE" infinity >/dev/null
for b in kubeadm kubelet kubectl; do
  docker cp "${k8s_bin}/${b}" "${build}:/usr/bin/${b}"
done
docker exec "$build" sh -c 'chmod 0755 /usr/bin/kube* && chown root:root /usr/bin/kube* && mkdir -p /kind/manifests'
printf '%s' "$KUBERNETES_VERSION" | docker exec -i "$build" sh -c 'cat >/kind/version'
go_manifest "${nodeimage}/const_cni.go" defaultCNIManifest | docker exec -i "$build" sh -c 'cat >/kind/manifests/default-cni.yaml'
go_manifest "${nodeimage}/const_storage.go" defaultStorageManifest | docker exec -i "$build" sh -c 'cat >/kind/manifests/default-storage.yaml'
docker exec "$build" grep -q "$KINDNETD_IMAGE" /kind/manifests/default-cni.yaml || die "CNI manifest lacks ${KINDNETD_IMAGE}"

docker exec -d "$build" containerd
docker exec "$build" sh -c 'for i in $(seq 30); do ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1' ||
  die "containerd did not start in the build container"
# Pinned so kubelet's image GC never drops them: nothing could pull them back.
# (Debian's ctr 1.6 has no `import --label`, hence the separate labelling; containerd >= 1.7
# honours the label.)
docker save "${images[@]}" | docker exec -i "$build" ctr --namespace=k8s.io images import --all-platforms --no-unpack -
docker exec "$build" sh -c 'ctr --namespace=k8s.io images list -q |
  xargs -I{} ctr --namespace=k8s.io images label {} io.cri-containerd.pinned=pinned >/dev/null'
imported="$(docker exec "$build" ctr --namespace=k8s.io images list -q | grep -c -v '^sha256:' || true)"
((imported >= ${#images[@]})) || die "only ${imported} of ${#images[@]} images imported into the node image"
# A clean stop flushes containerd's metadata database before the commit.
docker exec "$build" sh -c 'pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -rf /run/containerd'
docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
  --change "LABEL consul-chart.recipe=\"${recipe}\"" "$build" "$tag" >/dev/null
log "node image ${tag}: built"
