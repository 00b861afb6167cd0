#!/usr/bin/env bash
# Builds the kind node base image (the rootfs kind's images/base/Dockerfile makes) from a
# debootstrapped Debian rootfs with Debian's containerd, runc and CNI plugins, plus kind's own
# entrypoint, systemd units and containerd config from the sigs.k8s.io/kind module.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tag="${KIND_BASE_IMAGE}"
if image_exists "$tag"; then
  log "base image ${tag}: present"
  exit 0
fi
kind_files="$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION")/images/base/files"

customize() {
  local r="$1"
  # Module zips drop the executable bit, hence the explicit modes.
  install -m 0755 "${kind_files}/usr/local/bin/"* "${r}/usr/local/bin/"
  mkdir -p "${r}/kind/bin" "${r}/etc/kubernetes/manifests"
  install -m 0644 "${kind_files}/kind/README.txt" "${r}/kind/"
  install -m 0755 "${kind_files}/kind/bin/"* "${r}/kind/bin/"
  cp -r "${kind_files}/etc/." "${r}/etc/"
  find "${r}/etc/containerd" "${r}/etc/default" "${r}/etc/sysctl.d" "${r}/etc/systemd/system" "${r}/etc/crictl.yaml" \
    -type f -exec chmod 0644 {} +
  # kind's units expect its own containerd build in /usr/local/bin and CNI plugins in /opt/cni/bin.
  ln -sf /usr/bin/containerd "${r}/usr/local/bin/containerd"
  mkdir -p "${r}/opt/cni"
  ln -sfn /usr/lib/cni "${r}/opt/cni/bin"
  install -m 0755 "${REPO_ROOT}/hack/images/containerd-oom-score-adj.sh" "${r}/usr/local/bin/containerd-oom-score-adj"
  mkdir -p "${r}/etc/systemd/system/containerd.service.d"
  printf '[Service]\nExecStartPre=/usr/local/bin/containerd-oom-score-adj\n' \
    >"${r}/etc/systemd/system/containerd.service.d/10-oom-score-adj.conf"
  # The sandbox image must be one kubeadm's list names, which the node image imports.
  sed -i "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:${PAUSE_VERSION}\"#" "${r}/etc/containerd/config.toml"
  chroot "$r" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"${r}/etc/containerd/cri-base.json"

  # What kind's Dockerfile does to make systemd boot quietly inside a container.
  find "${r}/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "${r}/lib/systemd/system/multi-user.target.wants/"* "${r}/etc/systemd/system/"*.wants/* \
    "${r}/lib/systemd/system/local-fs.target.wants/"* "${r}/lib/systemd/system/sockets.target.wants/"*udev* \
    "${r}/lib/systemd/system/sockets.target.wants/"*initctl* "${r}/lib/systemd/system/basic.target.wants/"*
  echo "ReadKMsg=no" >>"${r}/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "${r}/sbin/init"
  chroot "$r" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$r" systemctl mask systemd-binfmt.service >/dev/null 2>&1
}

debootstrap_image "$tag" \
  systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins \
  customize \
  "ENV container=docker" "STOPSIGNAL SIGRTMIN+3" 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'
log "base image ${tag}: built"
