#!/usr/bin/env bash
# Builds hashicorp/consul:${CONSUL_VERSION} locally: the consul binary from the Go module proxy
# on a small debootstrapped Debian rootfs, keeping the official image's contract (consul on
# PATH, user consul uid 100 / gid 1000 owning /consul/data and /consul/config, sh, curl, jq,
# nslookup, timeout, and /usr/bin/dumb-init, which the chart runs the agents under so that PID 1
# reaps probe processes). Consul >= 1.17 is BUSL-1.1: this image is a local test artefact, never
# pushed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tag="$BUILT_CONSUL_IMAGE"
base="consul-chart.local/consul-base:${DEBIAN_SUITE}-2"
if image_current "$tag" "$base"; then
  log "consul image ${tag}: present"
  exit 0
fi
bash "${REPO_ROOT}/hack/build-consul.sh"

customize() {
  local r="$1"
  # nslookup comes from busybox: Debian's own pulls in all of BIND's libraries.
  ln -s /bin/busybox "${r}/usr/local/bin/nslookup"
  chroot "$r" groupadd --gid 1000 consul
  chroot "$r" useradd --system --uid 100 --gid 1000 --home-dir /consul --shell /bin/sh consul
  mkdir -p "${r}/consul/data" "${r}/consul/config"
  chroot "$r" chown -R consul:consul /consul
}
image_exists "$base" || debootstrap_image "$base" ca-certificates,curl,jq,busybox-static,dumb-init customize

ctx="$(mktemp -d "${CACHE}/tmp/image.XXXXXX")"
install -m 0755 "${CACHE}/consul/${CONSUL_VERSION}/bin/consul" "${ctx}/consul"
install -m 0755 "${REPO_ROOT}/hack/images/consul-entrypoint.sh" "${ctx}/docker-entrypoint.sh"
docker_build "$tag" "$ctx" <<DOCKERFILE
FROM ${base}
COPY consul docker-entrypoint.sh /usr/local/bin/
LABEL org.opencontainers.image.version="${CONSUL_VERSION}" \
      org.opencontainers.image.licenses="BUSL-1.1" \
      org.opencontainers.image.description="Local test build; not for distribution" \
      consul-chart.recipe="${base}"
VOLUME /consul/data
EXPOSE 8300 8301 8301/udp 8302 8302/udp 8500 8600 8600/udp
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["agent", "-dev", "-client", "0.0.0.0"]
DOCKERFILE
rm -rf "$ctx"
# Goes through the entrypoint: a bare subcommand, run as root, dropped to user consul.
version="$(docker run --rm "$tag" version)"
[[ $version == "Consul v${CONSUL_VERSION}"* ]] || die "image ${tag} reports: ${version}"
log "consul image ${tag}: built"
