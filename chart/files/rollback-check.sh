#!/bin/sh
# The pre-rollback check: `helm rollback` applies a stored revision as it was rendered, so none of
# the upgrade's lookup checks (_validate-installed.tpl) run. This hook of the revision rolled back
# to compares what that revision would apply (the environment, rendered with it) with the servers
# running now, and fails, which aborts the rollback before anything changes, where an upgrade
# to the same values would be refused: a scale-down below the running servers' quorum, a
# scale-down that also rolls the servers, TLS more than one step from the running servers'.
set -eu

sa=/var/run/secrets/kubernetes.io/serviceaccount
umask 077
# The token goes in a header file, never on curl's command line.
printf 'Authorization: Bearer %s\n' "$(cat "$sa/token")" >/tmp/auth
get() {
  curl -sSf --max-time 10 --cacert "$sa/ca.crt" -H @/tmp/auth \
    "https://kubernetes.default.svc/$1"
}
refuse() {
  echo "helm rollback to revision $REVISION refused: $1" >&2
  exit 1
}
ns="namespaces/$NAMESPACE"

sts="$(get "apis/apps/v1/$ns/statefulsets/$STATEFULSET")"
from="$(printf '%s' "$sts" | jq -r '.spec.replicas')"
running="$(printf '%s' "$sts" | jq -r '.metadata.annotations["checksum/pod-template"] // ""')"
keep=$((from / 2 + 1))
if [ "$REPLICAS" -lt "$keep" ]; then
  refuse "it would stop $((from - REPLICAS)) of the $from running servers at once, leaving fewer than their quorum of $keep should they stop before leaving. Scale down first in upgrades, each keeping a quorum of the running servers (README, \"Scaling\"), to at least $keep servers, then roll back."
fi
if [ "$REPLICAS" -lt "$from" ] && [ "$running" != "$POD_TEMPLATE" ]; then
  refuse "it scales the servers down from $from to $REPLICAS and changes their pod template too: the StatefulSet would stop the removed servers and start rolling the remaining ones at once. Scale down in an upgrade of its own first (helm upgrade --reuse-values --set server.replicas=$REPLICAS), then roll back."
fi

config="$(get "api/v1/$ns/configmaps/$CONFIGMAP" | jq -c '.data["server.json"] | fromjson')"
tls="$(printf '%s' "$config" | jq 'has("tls")')"
out="$(printf '%s' "$config" | jq '.tls.defaults.verify_outgoing // false')"
in="$(printf '%s' "$config" | jq '.tls.internal_rpc.verify_incoming // false')"
# One step at a time, as an upgrade allows it: tls on with no verification, then
# verify_outgoing, then verify_incoming; and the same back.
step() { # tls verify_outgoing verify_incoming -> 0..3
  if [ "$1" != true ]; then echo 0
  elif [ "$3" = true ]; then echo 3
  elif [ "$2" = true ]; then echo 2
  else echo 1; fi
}
now="$(step "$tls" "$out" "$in")"
to="$(step "$TLS_ENABLED" "$VERIFY_OUTGOING" "$VERIFY_INCOMING")"
if [ "$((now - to))" -gt 1 ] || [ "$((to - now))" -gt 1 ]; then
  refuse "the running servers have tls $tls, verify_outgoing $out, verify_incoming $in, and revision $REVISION has tls.enabled=$TLS_ENABLED, tls.verifyOutgoing=$VERIFY_OUTGOING, tls.verifyIncoming=$VERIFY_INCOMING: more than one step at once, so servers not yet rolled would refuse the RPC of the rolled ones. Change TLS by upgrades, one step each (README, \"Turning TLS on in a running release\"), then roll back."
fi
echo "rollback to revision $REVISION: $from -> $REPLICAS servers, TLS step $now -> $to: safe"
