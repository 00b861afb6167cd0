#!/usr/bin/env bash
# Builds the CLIs the unit tier and `make lint` need (helm 3, helm 4, chart-testing) from the
# Go module proxy, because no prebuilt binary can be downloaded here. Binaries are kept in a
# cache outside the repo, keyed by version, and linked into .tools/bin/ of this checkout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=versions.env
source "$root/hack/versions.env"
cache=${CONSUL_CHART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-chart}
bin_cache="$cache/bin"
tools="$root/.tools/bin"
mkdir -p "$bin_cache" "$tools"

command -v go >/dev/null || { echo "install-tools: 'go' is not on PATH; install Go >= 1.24 first" >&2; exit 1; }
export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gobuild" GOFLAGS=-mod=mod CGO_ENABLED=0

# build MODULE_PATH@VERSION PACKAGE NAME [LDFLAGS]: go-installs PACKAGE into the cache as NAME.
build() {
  local module=$1 version=$2 package=$3 name=$4 ldflags=${5:-}
  local out="$bin_cache/$name-$version"
  if [[ ! -x $out ]]; then
    echo "install-tools: building $name $version"
    local gobin
    gobin=$(mktemp -d)
    GOBIN=$gobin go install -trimpath -ldflags "-s -w $ldflags" "$package@$version"
    mv "$gobin/$(basename "$package")" "$out"
    rmdir "$gobin"
  fi
  ln -sfn "$out" "$tools/$name"
  : "$module"
}

# Helm 3 reports Kubernetes v1.20 to `kubeVersion` checks unless its Makefile's ldflags stamp
# the minor version of the client-go it was built with.
helm3_k8s_minor() {
  local modfile="$GOMODCACHE/cache/download/helm.sh/helm/v3/@v/$HELM3_VERSION.mod"
  [[ -f $modfile ]] || go mod download "helm.sh/helm/v3@$HELM3_VERSION"
  awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$modfile"
}

if [[ ! -x "$bin_cache/helm3-$HELM3_VERSION" ]]; then
  minor=$(helm3_k8s_minor)
  [[ -n $minor ]] || { echo "install-tools: cannot read client-go version of helm $HELM3_VERSION" >&2; exit 1; }
  h=helm.sh/helm/v3
  build "$h" "$HELM3_VERSION" "$h/cmd/helm" helm3 \
    "-X $h/internal/version.version=$HELM3_VERSION -X $h/internal/version.gitTreeState=clean \
     -X $h/pkg/lint/rules.k8sVersionMajor=1 -X $h/pkg/lint/rules.k8sVersionMinor=$minor \
     -X $h/pkg/chartutil.k8sVersionMajor=1 -X $h/pkg/chartutil.k8sVersionMinor=$minor"
else
  build helm.sh/helm/v3 "$HELM3_VERSION" helm.sh/helm/v3/cmd/helm helm3
fi
build helm.sh/helm/v4 "$HELM4_VERSION" helm.sh/helm/v4/cmd/helm helm4 \
  "-X helm.sh/helm/v4/internal/version.version=$HELM4_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
build github.com/helm/chart-testing/v3 "$CT_VERSION" github.com/helm/chart-testing/v3/ct ct \
  "-X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION"

# `helm` on PATH is helm 3 unless HELM selects otherwise (ct and users' muscle memory call `helm`).
ln -sfn "$tools/helm3" "$tools/helm"
echo "install-tools: $(ls "$tools" | tr '\n' ' ')in $tools"
