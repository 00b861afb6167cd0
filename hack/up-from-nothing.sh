#!/usr/bin/env bash
# `make up-from-nothing`: proves `make up` on a machine that never ran it. A fresh cache dir
# alone is not enough, since the build scripts skip every image Docker already holds, so this
# deletes the cluster, the project's images and the work tree's tool links and venvs, then runs
# `make up` with an empty CONSUL_CHART_CACHE (COLD_CACHE, or a new temporary dir) and prints
# its wall time. Apt packages and a running dockerd are kept: they are the machine, not state.
set -euo pipefail

# Checked before anything runs: sourcing lib.sh creates logs/ and tmp/ in the default cache.
cold_cache="${COLD_CACHE:-$(mktemp -d)}"
if [[ -e $cold_cache && -n "$(ls -A "$cold_cache")" ]]; then
  printf 'error: COLD_CACHE=%s is not empty: name an empty or new directory\n' "$cold_cache" >&2
  exit 1
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "${REPO_ROOT}/hack/cluster-down.sh"
if docker info >/dev/null 2>&1; then
  # Every image the hack/ scripts build or tag (kind's storage images are kindest/*).
  mapfile -t images < <(docker image ls --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^(kindest/|hashicorp/consul:|consul-chart\.local/|registry\.k8s\.io/)' || true)
  if ((${#images[@]} > 0)); then
    log "removing ${#images[@]} images: ${images[*]}"
    docker image rm -f "${images[@]}" >/dev/null
  fi
  docker builder prune -af >/dev/null 2>&1 || true
fi
rm -rf "${REPO_ROOT}/.tools" "${REPO_ROOT}/.venv" "${REPO_ROOT}/.tox"

log "make up with the empty cache ${cold_cache}"
start=$SECONDS
# The calling make exported KUBECONFIG into the old cache; the new run derives its own.
env -u KUBECONFIG CONSUL_CHART_CACHE="$cold_cache" PIP_NO_CACHE_DIR=1 make -C "$REPO_ROOT" up
log "make up from nothing: $((SECONDS - start)) s (cache ${cold_cache})"
