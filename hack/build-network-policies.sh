#!/usr/bin/env bash
# Builds the NetworkPolicy agent of the test cluster, sigs.k8s.io/kube-network-policies (the one
# kind's own CNI runs; the stand-in kindnetd enforces no policy), from the Go module proxy, with
# two local changes made by the edits below and hack/images/kube-network-policies/:
# - this machine's kernel lacks CONFIG_NFT_QUEUE, so upstream's nftables rules are refused
#   ("netlink receive: no such file or directory") and nothing is enforced; the rules send
#   packets to the same queue through the x_tables NFQUEUE target instead;
# - it stops on SIGTERM as well as SIGINT, so a deleted agent removes its nftables table rather
#   than leaving the traffic of policy-selected pods queued to nobody.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tag="$KUBE_NETWORK_POLICIES_IMAGE"
if image_exists "$tag"; then
  log "network policy image ${tag}: present"
  exit 0
fi
out="${CACHE}/kube-network-policies/${tag##*:}"
if [[ ! -x "${out}/netpol" ]]; then
  src="${CACHE}/src/kube-network-policies-${tag##*:}"
  rm -rf "$src"
  cp -r "$(go_module_dir sigs.k8s.io/kube-network-policies "$KUBE_NETWORK_POLICIES_VERSION")" "$src"
  chmod -R u+w "$src"
  cp "${REPO_ROOT}/hack/images/kube-network-policies/nfqueue_compat.go" "${src}/pkg/networkpolicy/"
  # edit FILE COUNT PERL-SUBSTITUTION: applies it, and stops unless it matched COUNT times (an
  # upstream change must not slip through unpatched).
  edit() {
    local n
    n="$(perl -0 -i -pe "\$n += ($3); END { print STDERR \$n + 0 }" "${src}/$1" 2>&1 >/dev/null)"
    [[ $n == "$2" ]] || die "patching $1 for this kernel: expected $2 match(es), found ${n}"
  }
  edit pkg/networkpolicy/controller.go 2 \
    's/queue := &expr\.Queue\{Num: uint16\(c\.config\.QueueID\)\}\n\tif c\.config\.FailOpen \{\n\t\tqueue\.Flag = expr\.QueueFlagBypass\n\t\}/queue := nfqueueTarget(uint16(c.config.QueueID), c.config.FailOpen)/g'
  edit pkg/networkpolicy/dnsagent.go 1 \
    's/&expr\.Queue\{Num: uint16\(n\.nfQueueID\), Flag: expr\.QueueFlagBypass\}/nfqueueTarget(uint16(n.nfQueueID), true)/g'
  edit cmd/main.go 1 's/os\.Interrupt, unix\.SIGINT\)/os.Interrupt, unix.SIGINT, unix.SIGTERM)/g'
  ! grep -rq 'expr\.Queue{' "${src}/pkg" || die "kube-network-policies still uses the nft queue expression"
  log "building kube-network-policies ${KUBE_NETWORK_POLICIES_VERSION}"
  mkdir -p "$out"
  (cd "$src" && go_build -ldflags "$GO_LDFLAGS" -o "${out}/netpol" ./cmd)
  rm -rf "$src"
fi
file_image "$tag" scratch '["/bin/netpol"]' "${out}/netpol:bin/netpol"
