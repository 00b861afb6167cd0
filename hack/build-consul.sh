#!/usr/bin/env bash
# Builds the consul binary from the Go module proxy into $CACHE/consul/$CONSUL_VERSION/bin.
# consul's go.mod replaces its api/sdk/... submodules with local dirs, which only apply inside
# its own repo and are not in its module zip; a wrapper module uses published submodules and
# copies its excludes (they keep a breaking go-msgpack out). The api version its go.mod names is
# older than the code it replaces, hence CONSUL_API_VERSION.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $CONSUL_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "CONSUL_VERSION must look like 1.22.7 (no v), got '${CONSUL_VERSION}'"
out="${CACHE}/consul/${CONSUL_VERSION}/bin"
if [[ -x "${out}/consul" ]]; then
  log "consul ${CONSUL_VERSION}: binary cached in ${out}"
  exit 0
fi

src="${CACHE}/src/consul-${CONSUL_VERSION}"
consul_dir="$(go_module_dir github.com/hashicorp/consul "v${CONSUL_VERSION}")"
mkdir -p "$src"
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/hashicorp/consul"\n' >"${src}/tools.go"
{
  printf 'module consul-chart.local/consul-build\n\ngo %s\n\n' "$(sed -n 's/^go //p' "${consul_dir}/go.mod")"
  printf 'require (\n\tgithub.com/hashicorp/consul v%s\n\tgithub.com/hashicorp/consul/api %s\n)\n\n' \
    "$CONSUL_VERSION" "$CONSUL_API_VERSION"
  sed -n '/^exclude (/,/^)/p' "${consul_dir}/go.mod"
} | go_wrapper_module "$src"

build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' \
  "${GOMODCACHE}/cache/download/github.com/hashicorp/consul/@v/v${CONSUL_VERSION}.info")"
log "consul ${CONSUL_VERSION}: building"
mkdir -p "$out"
cd "$src"
go_build -ldflags "${GO_LDFLAGS} -X github.com/hashicorp/consul/version.BuildDate=${build_date}" \
  -o "${out}/consul" github.com/hashicorp/consul
"${out}/consul" version
