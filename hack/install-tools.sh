#!/usr/bin/env bash
# Builds the CLIs the unit tier and `make lint` need (helm 3, helm 4, chart-testing) from the
# Go module proxy, because no prebuilt binary can be downloaded here. Binaries are cached
# outside the repo, keyed by version, and linked into .tools/bin/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || die "'go' is not on PATH: install Go 1.24 or newer first"
# The unit tier runs the chart's backup scripts, which read `consul snapshot inspect` with jq.
ensure_apt_packages jq

# build NAME VERSION MODULE PACKAGE [LDFLAGS]: builds PACKAGE (a path inside MODULE) as the
# main module, so its own replace directives apply and `go install`'s look-up of the module's
# version list (refused by the proxy for some modules) is not needed.
build() {
  local name=$1 version=$2 module=$3 package=$4 ldflags=${5:-} out dir
  out="${CACHE}/bin/${name}-${version}"
  if [[ ! -x $out ]]; then
    log "building ${name} ${version}"
    dir="$(go_module_dir "$module" "$version")"
    mkdir -p "${CACHE}/bin"
    (cd "$dir" && go_build -ldflags "${GO_LDFLAGS} ${ldflags}" -o "${out}.partial" "./${package}")
    mv "${out}.partial" "$out"
  fi
  link_tool "$out" "$name"
}

# Helm 3 reports Kubernetes v1.20 to `kubeVersion` checks unless the ldflags of its Makefile
# stamp the client-go minor version it was built with.
helm3_ldflags() {
  local h=helm.sh/helm/v3 minor
  minor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' \
    "$(go_module_dir "$h" "$HELM3_VERSION")/go.mod")"
  [[ -n $minor ]] || die "cannot read the client-go version of helm ${HELM3_VERSION}"
  echo "-X $h/internal/version.version=${HELM3_VERSION} -X $h/internal/version.gitTreeState=clean" \
    "-X $h/pkg/lint/rules.k8sVersionMajor=1 -X $h/pkg/lint/rules.k8sVersionMinor=${minor}" \
    "-X $h/pkg/chartutil.k8sVersionMajor=1 -X $h/pkg/chartutil.k8sVersionMinor=${minor}"
}

build helm3 "$HELM3_VERSION" helm.sh/helm/v3 cmd/helm "$(helm3_ldflags)"
build helm4 "$HELM4_VERSION" helm.sh/helm/v4 cmd/helm \
  "-X helm.sh/helm/v4/internal/version.version=${HELM4_VERSION} -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
build ct "$CT_VERSION" github.com/helm/chart-testing/v3 ct \
  "-X github.com/helm/chart-testing/v3/ct/cmd.Version=${CT_VERSION}"
# `helm` is helm 3 unless HELM names another: ct and users' muscle memory call plain `helm`.
link_tool "${TOOLS_BIN}/helm3" helm
log "tools: $(ls "$TOOLS_BIN" | tr '\n' ' ')"
