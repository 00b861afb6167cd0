#!/usr/bin/env bash
# Builds the Kubernetes binaries the node image needs from the Go module proxy into
# $CACHE/kubernetes/$KUBERNETES_VERSION/bin. k8s.io/kubernetes maps its ~31 staging modules to
# ./staging at v0.0.0, which a consumer cannot resolve, so a wrapper module replaces each with
# its published v0.MINOR.PATCH twin.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $KUBERNETES_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] ||
  die "KUBERNETES_VERSION must look like v1.34.4, got '${KUBERNETES_VERSION}'"
minor="${BASH_REMATCH[1]}"
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
# Arguments narrow the build to some commands (kubectl alone when the node image comes from a
# registry).
commands=("$@")
((${#commands[@]} > 0)) ||
  commands=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
out="${CACHE}/kubernetes/${KUBERNETES_VERSION}/bin"

missing=()
for c in "${commands[@]}"; do [[ -x "${out}/${c}" ]] || missing+=("$c"); done
if ((${#missing[@]} == 0)); then
  log "kubernetes ${KUBERNETES_VERSION}: binaries cached in ${out}"
  exit 0
fi

src="${CACHE}/src/kubernetes-${KUBERNETES_VERSION}"
k8s_dir="$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")"
mkdir -p "$src"
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for c in "${commands[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
  printf ')\n'
} >"${src}/tools.go"
{
  printf 'module consul-chart.local/kubernetes-build\n\ngo %s\n\n' "$(sed -n 's/^go //p' "${k8s_dir}/go.mod")"
  printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
  sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"${staging_version}"'#p' "${k8s_dir}/go.mod"
  printf ')\n'
} | go_wrapper_module "$src"

# Without these stamps kubeadm reports a placeholder version and picks wrong image tags.
build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' \
  "${GOMODCACHE}/cache/download/k8s.io/kubernetes/@v/${KUBERNETES_VERSION}.info")"
ldflags="${GO_LDFLAGS}"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=1"
  ldflags+=" -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
done

log "kubernetes ${KUBERNETES_VERSION}: building ${missing[*]}"
mkdir -p "$out"
cd "$src"
pkgs=()
for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${c}"); done
go_build -ldflags "$ldflags" -o "${out}/" "${pkgs[@]}"
# The version stamp is what kubeadm picks image tags by: check it whenever kubeadm is built.
if [[ -x "${out}/kubeadm" ]]; then
  "${out}/kubeadm" version -o short
fi
