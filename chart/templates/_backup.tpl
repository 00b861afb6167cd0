{{/*
Helpers of backups (backup.*): the snapshot CronJob, its volume claim and the restore Job. Each
takes the chart root ($).
*/}}

{{/* consul.backup.claimName: the volume claim the snapshots are kept on, the user's or the chart's. */}}
{{- define "consul.backup.claimName" -}}
{{- default (printf "%s-backup" (include "consul.fullname" .)) .Values.backup.persistence.existingClaim }}
{{- end }}

{{/* consul.backup.claim: the chart's claim as a JSON object, which the secrets-init Job creates if absent. */}}
{{- define "consul.backup.claim" -}}
{{- $p := .Values.backup.persistence }}
{{- $spec := dict "accessModes" $p.accessModes "resources" (dict "requests" (dict "storage" $p.size)) }}
{{- with $p.storageClass }}
{{- $_ := set $spec "storageClassName" . }}
{{- end }}
{{- $labels := include "consul.componentSelectorLabels" (dict "root" . "component" "backup") | fromYaml }}
{{- toJson (dict "apiVersion" "v1" "kind" "PersistentVolumeClaim" "metadata" (dict "name" (include "consul.backup.claimName" .) "labels" $labels) "spec" $spec) }}
{{- end }}

{{/* consul.backup.filePrefix: snapshot files are /backups/<prefix>-<UTC time>.snap, so names sort by time. */}}
{{- define "consul.backup.filePrefix" -}}
/backups/{{ include "consul.fullname" . }}
{{- end }}

{{/*
consul.backup.toLeaderScript: points the CLI at the leader itself. A follower forwards a snapshot
request to the leader over a connection the leader now and then resets before its answer is read
("failed to decode response: read tcp ...:8300: connection reset by peer", hashicorp/consul#6893;
seen here on 2 of 7 snapshot Jobs in one run), so a scheduled backup or a restore failed by chance.
Scheme and port stay those of the Service URL the pod was given (consul.serverURL); with HTTPS
the leader's certificate is checked against the Service's name, which it holds. Should leadership
move in between, that server forwards the request as any server does.
*/}}
{{- define "consul.backup.toLeaderScript" -}}
leader=$(curl -sf --max-time 10 ${CONSUL_CACERT:+--cacert "$CONSUL_CACERT"} "$CONSUL_HTTP_ADDR/v1/status/leader" | jq -r .) || leader=
if [ -n "$leader" ]; then
  service=${CONSUL_HTTP_ADDR#*://}
  case "$CONSUL_HTTP_ADDR" in https://*) export CONSUL_TLS_SERVER_NAME="${service%:*}" ;; esac
  export CONSUL_HTTP_ADDR="${CONSUL_HTTP_ADDR%%://*}://${leader%:*}:${service##*:}"
  echo "asking the leader, $CONSUL_HTTP_ADDR"
else
  echo "$CONSUL_HTTP_ADDR names no leader now; asking through it"
fi
{{- end }}

{{/*
consul.backup.saveScript: one snapshot, written under a temporary name and kept only once
`consul snapshot inspect` reads a raft index above 0 from it, then the oldest beyond
backup.keep deleted. Any failure fails the Job, for the user's alerting to see. The image's sh
has no pipefail and jq turns no input into no output, so inspect's status is read on its own and
the index must prove to be a number above 0: an unreadable snapshot yields an empty index.
*/}}
{{- define "consul.backup.saveScript" -}}
{{- $prefix := include "consul.backup.filePrefix" . -}}
file="{{ $prefix }}-$(date -u +%Y%m%dT%H%M%SZ).snap"
trap 'rm -f "$file.part"' EXIT
{{ include "consul.backup.toLeaderScript" . }}
consul snapshot save "$file.part"
meta=$(consul snapshot inspect -format=json "$file.part") || {
  echo "consul snapshot inspect cannot read the snapshot, so it is not kept" >&2
  exit 1
}
index=$(printf '%s\n' "$meta" | jq -r '.Meta.Index') || index=
if ! [ "$index" -gt 0 ] 2>/dev/null; then
  echo "the snapshot has raft index '${index}': empty or unreadable, so it is not kept" >&2
  exit 1
fi
mv "$file.part" "$file"
echo "kept $file: raft index $index, $(stat -c %s "$file") bytes"
ls -1 {{ $prefix }}-*.snap | sort -r | tail -n +{{ add .Values.backup.keep 1 }} | while read -r old; do
  rm -f "$old"
  echo "deleted $old (keeping the newest {{ .Values.backup.keep }})"
done
{{- end }}

{{/*
consul.backup.restoreScript: restores backup.restore.snapshot once the servers have a leader, then
puts back what a restore rolls back to the snapshot's: the autopilot settings, and the chart's
ACL policies and tokens. Raft membership and the gossip keyring are not in a snapshot. The
snapshot is checked as the save script checks one (see there), before the cluster is touched.
*/}}
{{- define "consul.backup.restoreScript" -}}
{{- $prefix := include "consul.backup.filePrefix" . -}}
{{- $claim := include "consul.backup.claimName" . -}}
{{- $want := .Values.backup.restore.snapshot -}}
{{- if eq $want "latest" -}}
file=$(ls -1 {{ $prefix }}-*.snap 2>/dev/null | sort | tail -n 1)
[ -n "$file" ] || { echo "backup.restore.snapshot=latest: no {{ $prefix }}-*.snap on claim {{ $claim }}" >&2; exit 1; }
{{- else -}}
file=/backups/{{ $want }}
[ -f "$file" ] || { echo "backup.restore.snapshot: $file is not on claim {{ $claim }}, which holds: $(ls /backups | tr '\n' ' ')" >&2; exit 1; }
{{- end }}
meta=$(consul snapshot inspect -format=json "$file") || { echo "$file is not a readable snapshot: consul snapshot inspect failed" >&2; exit 1; }
index=$(printf '%s\n' "$meta" | jq -r '.Meta.Index') || index=
[ "$index" -gt 0 ] 2>/dev/null || { echo "$file is not a readable snapshot (raft index '${index}')" >&2; exit 1; }
until timeout 10 consul operator raft list-peers >/dev/null; do
  echo "no leader to restore into yet; retrying in 5s"
  sleep 5
done
{{ include "consul.backup.toLeaderScript" . }}
consul snapshot restore "$file"
echo "restored $file (raft index $index)"
{{ include "consul.server.autopilotScript" . }}
{{- if .Values.acl.enabled }}
timeout 10 consul acl token read -self >/dev/null || {
  echo "the management token in Secret {{ include "consul.acl.tokenSecretName" (dict "root" . "token" "management") }} is not in the restored snapshot, whose ACL tokens replaced this install's: put the snapshot's management token in that Secret (see README, Backups and restore) and run this Job again" >&2
  exit 1
}
{{ include "consul.acl.syncScript" . }}
{{- end }}
{{- end }}

{{/*
consul.backup.podSpec: the pod spec of the snapshot and restore Jobs; takes (dict "root" $
"component" "backup"|"restore" "script" SCRIPT). Restore reads the claim only.
*/}}
{{- define "consul.backup.podSpec" -}}
{{- $v := .root.Values -}}
restartPolicy: Never
automountServiceAccountToken: false
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $jobs := deepCopy $v.jobs }}
{{- with $v.backup.nodeSelector }}{{ $_ := set $jobs "nodeSelector" . }}{{ end }}
{{- with $v.backup.tolerations }}{{ $_ := set $jobs "tolerations" . }}{{ end }}
{{- include "consul.jobs.scheduling" $jobs }}
containers:
  - name: {{ .component }}
    image: {{ include "consul.image" .root }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    env:
      # The Service finds a server, which names the leader (consul.backup.toLeaderScript).
      {{- include "consul.pod.cliEnv" (dict "root" .root "component" .component "url" (include "consul.serverURL" .root)) | nindent 6 }}
    command:
      - /bin/sh
      - -ec
      - |
        {{- .script | nindent 8 }}
    resources:
      {{- toYaml $v.backup.resources | nindent 6 }}
    securityContext:
      {{- toYaml $v.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - {name: backups, mountPath: /backups{{ if eq .component "restore" }}, readOnly: true{{ end }}}
      - {name: tmp, mountPath: /tmp}
      - {name: secrets, mountPath: /consul/secrets, readOnly: true}
volumes:
  - name: backups
    persistentVolumeClaim:
      claimName: {{ include "consul.backup.claimName" .root }}
  - name: tmp
    emptyDir: {sizeLimit: 64Mi}
  {{- include "consul.secrets.volume" (dict "root" .root "component" .component) | nindent 2 }}
{{- end }}
