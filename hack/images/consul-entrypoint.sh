#!/usr/bin/dumb-init /bin/sh
# Entrypoint of the local hashicorp/consul image, compatible with the official one's contract:
# `agent ...` runs an agent with the image's data and config dirs, any other consul subcommand
# may be given without the `consul` prefix, a root start drops to user consul, and dumb-init is
# PID 1. The chart runs `dumb-init consul agent -config-dir=...` and never goes through this.
set -eu
CONSUL_DATA_DIR=/consul/data
CONSUL_CONFIG_DIR=/consul/config

if [ "${1:-}" = agent ]; then
  shift
  set -- consul agent -data-dir="$CONSUL_DATA_DIR" -config-dir="$CONSUL_CONFIG_DIR" "$@"
elif [ -n "${1:-}" ] && [ "$1" != consul ] && consul --help "$1" >/dev/null 2>&1; then
  set -- consul "$@"
fi

if [ "${1:-}" = consul ] && [ "$(id -u)" = 0 ]; then
  if [ -z "${SKIP_CHOWN:-}" ]; then
    chown -R consul:consul "$CONSUL_DATA_DIR" "$CONSUL_CONFIG_DIR" 2>/dev/null || true
  fi
  exec setpriv --reuid=consul --regid=consul --init-groups "$@"
fi
exec "$@"
