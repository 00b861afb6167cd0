#!/usr/bin/env bash
# shellcheck disable=SC2034 # most variables here are for the scripts that source this file
# Shared bits for hack/*.sh: pinned versions, cache layout, logging. Sourced, never run.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "${REPO_ROOT}/hack/versions.env"
# hack/previous-consul.sh builds another Consul release (and its consul/api) with the same
# scripts by naming them here.
CONSUL_VERSION="${CONSUL_BUILD_VERSION:-$CONSUL_VERSION}"
CONSUL_API_VERSION="${CONSUL_BUILD_API_VERSION:-$CONSUL_API_VERSION}"

# Everything built or downloaded lives outside the repo, keyed by version, so a fresh clone on
# the same machine reuses it.
CACHE="${CONSUL_CHART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-chart}"
export GOMODCACHE="${CACHE}/go/mod"
export GOCACHE="${CACHE}/go/build"
# -modcacherw lets `rm -rf "$CACHE"` work; -buildvcs=false because wrapper modules have no VCS.
export GOFLAGS="-modcacherw -buildvcs=false"
export CGO_ENABLED=0
# At least the pinned Go, newer where a module's go line asks for it (the proxy serves it).
export GOTOOLCHAIN="${GO_TOOLCHAIN}+auto"
GO_LDFLAGS="-s -w"
TOOLS_BIN="${REPO_ROOT}/.tools/bin"
KUBECONFIG_PATH="${CACHE}/kubeconfig"
CLUSTER_NAME="consul-chart"
# The Docker network of the nodes (hack/cluster-network.sh); its bridge gets a fixed name so a
# firewall rule can keep its traffic on this machine.
CLUSTER_NETWORK="consul-chart"
CLUSTER_BRIDGE="br-consul-chart"
# Tags of the locally built images; KIND_NODE_IMAGE / CONSUL_IMAGE in the environment name
# registry images to use instead (hack/cluster-up.sh).
BUILT_NODE_IMAGE="kindest/node:${KUBERNETES_VERSION}"
BUILT_CONSUL_IMAGE="hashicorp/consul:${CONSUL_VERSION}"
# Where start-dockerd.sh installs the OCI runtime wrapper dockerd runs as root.
RUNTIME_WRAPPER_DIR=/usr/local/libexec/consul-chart
mkdir -p "${CACHE}/logs" "${CACHE}/tmp"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() { [[ $EUID -eq 0 ]] || die "$1 needs root"; }

# Installs the Debian packages among "$@" that are missing (a fresh machine has none of them).
ensure_apt_packages() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  need_root "installing ${missing[*]}"
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go builds within a generated wrapper module; nice keeps the shared machine responsive.
go_build() { nice -n 10 go build -trimpath "$@"; }

# Writes a wrapper module in $1 (a cache dir) from go.mod text on stdin, then resolves it.
go_wrapper_module() {
  local dir="$1"
  mkdir -p "$dir"
  cat >"${dir}/go.mod"
  (cd "$dir" && go mod tidy >/dev/null)
}

# docker build -t $1 with the Dockerfile on stdin and context $2 ("-" for none). Output goes to
# the terminal only on failure: the legacy builder's deprecation notice is noise.
docker_build() {
  local out
  if [[ $2 == - ]]; then
    out="$(docker build -t "$1" - 2>&1)" || { printf '%s\n' "$out" >&2; die "docker build of $1 failed"; }
  else
    out="$(docker build -t "$1" -f - "$2" 2>&1)" || { printf '%s\n' "$out" >&2; die "docker build of $1 failed"; }
  fi
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# True when image $1 exists and was built from recipe $2 (its consul-chart.recipe label): a tag
# that names only an upstream version must still be rebuilt when what goes into it changes.
image_current() {
  image_exists "$1" &&
    [[ "$(docker image inspect -f '{{index .Config.Labels "consul-chart.recipe"}}' "$1")" == "$2" ]]
}

link_tool() {
  mkdir -p "$TOOLS_BIN"
  ln -sfn "$1" "${TOOLS_BIN}/$2"
}

# Prints the directory of module $1 at version $2, downloading it into GOMODCACHE if needed.
go_module_dir() {
  local dir
  dir="$(go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d $dir ]] || die "could not download Go module $1@$2"
  echo "$dir"
}

# Debootstraps a ${DEBIAN_SUITE} minbase rootfs with the packages in $2 (comma-separated), lets
# the function named $3 adjust it (called with the rootfs path), and makes image $1 of it with
# the Dockerfile instructions that follow. The rootfs is deleted: the image is the cache.
debootstrap_image() {
  local tag="$1" include="$2" customize="$3" rootfs log_file
  shift 3
  need_root "debootstrap (building ${tag})"
  ensure_apt_packages debootstrap
  rootfs="$(mktemp -d "${CACHE}/tmp/rootfs.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap outlives this function's locals
  trap "rm -rf '${rootfs}'" EXIT
  log_file="${CACHE}/logs/debootstrap-${tag//[\/:]/_}.log"
  log "debootstrap ${DEBIAN_SUITE} for ${tag} (log: ${log_file})"
  nice -n 10 debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" \
    >"$log_file" 2>&1 || die "debootstrap failed; see ${log_file}"
  "$customize" "$rootfs"
  import_rootfs "$rootfs" "$tag" "$@"
  rm -rf "$rootfs"
  trap - EXIT
}

# Makes image $2 of rootfs directory $1 plus the Dockerfile instructions that follow (docker
# import alone cannot set STOPSIGNAL, and leaves PATH unset).
import_rootfs() {
  local rootfs="$1" tag="$2"
  shift 2
  rm -rf "${rootfs}/var/lib/apt/lists/"* "${rootfs}/var/cache/apt/"*.bin "${rootfs}/var/cache/apt/archives/"*.deb
  tar -C "$rootfs" -c . | docker import - "${tag}-rootfs" >/dev/null
  {
    printf 'FROM %s\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' "${tag}-rootfs"
    printf '%s\n' "$@"
  } | docker_build "$tag" -
  docker rmi "${tag}-rootfs" >/dev/null
}

# Builds image $1 FROM $2 ("scratch" or an image) with entrypoint JSON $3, copying each
# following SRC:DEST file in. On scratch it adds /tmp and an /etc/passwd, as distroless does.
# DEST must not cross a symlink of the base (bookworm's /bin): COPY would replace it.
file_image() {
  local tag="$1" base="$2" entrypoint="$3" ctx spec
  shift 3
  ctx="$(mktemp -d "${CACHE}/tmp/image.XXXXXX")"
  mkdir -p "${ctx}/root"
  if [[ $base == scratch ]]; then
    mkdir -p "${ctx}/root/tmp" "${ctx}/root/etc"
    chmod 1777 "${ctx}/root/tmp"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
      >"${ctx}/root/etc/passwd"
  fi
  for spec in "$@"; do
    install -D -m 0755 "${spec%%:*}" "${ctx}/root/${spec#*:}"
  done
  printf 'FROM %s\nCOPY root/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT %s\n' \
    "$base" "$entrypoint" | docker_build "$tag" "$ctx"
  rm -rf "$ctx"
}

# go install $1 (package@version) into $2 unless $2/$3 exists. Only for modules without replace
# directives: `go install pkg@version` refuses the others, which need a wrapper module.
go_install() {
  [[ -x "$2/$3" ]] && return 0
  log "building $1"
  GOBIN="$2" nice -n 10 go install -trimpath -ldflags "${GO_LDFLAGS}" "$1"
}
