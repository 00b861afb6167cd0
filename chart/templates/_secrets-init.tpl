{{/*
consul.secrets.initScript: the shell script of the secrets-init Job; takes the chart root ($).
It reads its work from the environment the Job sets, talks to the Kubernetes API with curl and
the pod's ServiceAccount token, and passes every secret through files in /tmp (memory), never
through arguments.
*/}}
{{- define "consul.secrets.initScript" -}}
sa=/var/run/secrets/kubernetes.io/serviceaccount
url="https://kubernetes.default.svc/api/v1/namespaces/$NAMESPACE/secrets"
cd /tmp
api() {
  curl -sS --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" \
    -H 'Content-Type: application/json' -o /tmp/answer -w '%{http_code}' "$@"
}
# found NAME: true if the Secret exists (its object left in /tmp/answer), false if not.
found() {
  code=$(api "$url/$1")
  case "$code" in
    200) return 0 ;;
    404) return 1 ;;
    *) echo "reading Secret $1 failed with HTTP $code: $(cat /tmp/answer)" >&2; exit 1 ;;
  esac
}
# add KEY FILE: stage a data entry of the next Secret to save.
add() {
  jq --arg k "$1" --rawfile v "$2" '.[$k] = ($v | @base64)' /tmp/data.json >/tmp/data.next
  mv /tmp/data.next /tmp/data.json
}
# save NAME COMPONENT ANNOTATIONS_JSON create|replace: write the staged entries as a Secret.
save() {
  jq -n --arg name "$1" --arg component "$2" --argjson annotations "$3" --slurpfile data /tmp/data.json \
    --arg chart "$CHART" --arg release "$RELEASE" '{apiVersion: "v1", kind: "Secret", type: "Opaque",
      metadata: {name: $name, annotations: $annotations, labels: {"app.kubernetes.io/name": $chart,
        "app.kubernetes.io/instance": $release, "app.kubernetes.io/component": $component}},
      data: $data[0]}' >/tmp/body.json
  echo '{}' >/tmp/data.json
  if [ "$4" = replace ]; then
    code=$(api -X PUT --data @/tmp/body.json "$url/$1")
  else
    code=$(api -X POST --data @/tmp/body.json "$url")
  fi
  rm -f /tmp/body.json
  case "$code" in
    200|201) echo "saved Secret $1" ;;
    409) echo "Secret $1 was created concurrently: keeping it" ;;
    *) echo "saving Secret $1 failed with HTTP $code: $(cat /tmp/answer)" >&2; exit 1 ;;
  esac
}
echo '{}' >/tmp/data.json

if [ -n "${GOSSIP_SECRET:-}" ]; then
  if found "$GOSSIP_SECRET"; then
    echo "Secret $GOSSIP_SECRET exists: keeping its gossip key"
  else
    key=$(consul keygen)
    printf %s "$key" >/tmp/gossip && add "$GOSSIP_SECRET_KEY" /tmp/gossip && rm /tmp/gossip
    save "$GOSSIP_SECRET" gossip-key '{}' create
  fi
fi

for name in ${TOKEN_SECRETS:-}; do
  if found "$name"; then
    echo "Secret $name exists: keeping its ACL token"
  else
    tr -d '\n' </proc/sys/kernel/random/uuid >/tmp/token && add token /tmp/token && rm /tmp/token
    save "$name" acl-token '{}' create
  fi
done

if [ -n "${BACKUP_CLAIM:-}" ]; then
  claims="https://kubernetes.default.svc/api/v1/namespaces/$NAMESPACE/persistentvolumeclaims"
  code=$(api "$claims/$BACKUP_CLAIM")
  case "$code" in
    200) echo "volume claim $BACKUP_CLAIM exists: keeping it and its snapshots" ;;
    404)
      printf '%s' "$BACKUP_CLAIM_OBJECT" >/tmp/body.json
      code=$(api -X POST --data @/tmp/body.json "$claims")
      case "$code" in
        201|409) echo "made volume claim $BACKUP_CLAIM for the snapshots" ;;
        *) echo "making volume claim $BACKUP_CLAIM failed with HTTP $code: $(cat /tmp/answer)" >&2; exit 1 ;;
      esac ;;
    *) echo "reading volume claim $BACKUP_CLAIM failed with HTTP $code: $(cat /tmp/answer)" >&2; exit 1 ;;
  esac
fi

[ -n "${CA_SECRET:-}" ] || exit 0
if found "$CA_SECRET"; then
  echo "Secret $CA_SECRET exists: keeping its CA"
elif [ "$MAKE_CA" = true ]; then
  mkdir -p /tmp/ca && (cd /tmp/ca && consul tls ca create -domain "$DOMAIN" -days "$CA_DAYS")
  add tls.crt /tmp/ca/"$DOMAIN"-agent-ca.pem && add tls.key /tmp/ca/"$DOMAIN"-agent-ca-key.pem
  rm -r /tmp/ca
  save "$CA_SECRET" tls-ca '{}' create
  found "$CA_SECRET" || { echo "Secret $CA_SECRET vanished after it was saved" >&2; exit 1; }
else
  echo "tls.ca.existingSecret: Secret $CA_SECRET not found in $NAMESPACE; create it with tls.crt and tls.key" >&2
  exit 1
fi
[ -n "${SERVER_SECRET:-}" ] || exit 0
# The CA's object is the last one read: keep its certificate and key for signing.
jq -r '.data["tls.crt"] // empty | @base64d' /tmp/answer >/tmp/ca.pem
jq -r '.data["tls.key"] // empty | @base64d' /tmp/answer >/tmp/ca-key.pem
if found "$SERVER_SECRET"; then
  names=$(jq -r '.metadata.annotations["consul-chart.io/names"] // ""' /tmp/answer)
  not_after=$(jq -r '.metadata.annotations["consul-chart.io/not-after"] // "0"' /tmp/answer)
  if [ "$names" = "$SERVER_NAMES" ] && [ "$not_after" -gt $(( $(date +%s) + RENEW_BEFORE_DAYS * 86400 )) ]; then
    echo "Secret $SERVER_SECRET holds a server certificate for these names, valid long enough: keeping it"
    rm -f /tmp/ca.pem /tmp/ca-key.pem
    exit 0
  fi
  echo "reissuing the server certificate in $SERVER_SECRET (names changed or expiry near)"
  how=replace
else
  how=create
fi
[ -s /tmp/ca-key.pem ] || { echo "Secret $CA_SECRET has no tls.key to sign the server certificate with; add it, or set tls.server.existingSecret" >&2; exit 1; }
set --
for name in $(echo "$SERVER_NAMES" | tr , ' '); do
  case "$name" in
    *:*|[0-9]*.[0-9]*.[0-9]*.[0-9]*) set -- "$@" -additional-ipaddress="$name" ;;
    *) set -- "$@" -additional-dnsname="$name" ;;
  esac
done
mkdir -p /tmp/server && cd /tmp/server
consul tls cert create -server -dc "$DATACENTER" -domain "$DOMAIN" -ca /tmp/ca.pem -key /tmp/ca-key.pem -days "$SERVER_DAYS" "$@"
cd /tmp
add tls.crt /tmp/server/"$DATACENTER"-server-"$DOMAIN"-0.pem
add tls.key /tmp/server/"$DATACENTER"-server-"$DOMAIN"-0-key.pem
add ca.crt /tmp/ca.pem
rm -r /tmp/server /tmp/ca-key.pem
annotations=$(jq -n --arg names "$SERVER_NAMES" --arg not_after "$(( $(date +%s) + SERVER_DAYS * 86400 ))" \
  '{"consul-chart.io/names": $names, "consul-chart.io/not-after": $not_after}')
save "$SERVER_SECRET" tls-server "$annotations" "$how"
{{- end }}
