{{/*
Helpers of ACLs (acl.*). Each takes the chart root ($) unless it says so.

Every token the chart uses has an AccessorID derived from the release (not secret, the same on
every render) and a SecretID made once by the secrets-init Job, so the acl-init Job can create
each token idempotently with `consul acl token create -accessor -secret`.
*/}}

{{/*
consul.acl.tokens: every token the chart makes and keeps in a Secret, as a YAML list: the
backup token only while backups are on, since its rights (acl write) equal management's.
*/}}
{{- define "consul.acl.tokens" -}}
{{- $tokens := list "management" "agent" "dns" "metrics" "test" }}
{{- if .Values.backup.enabled }}
{{- $tokens = append $tokens "backup" }}
{{- end }}
{{- toYaml $tokens }}
{{- end }}

{{/*
consul.acl.componentTokens: the tokens (by name) a component's pods mount, as a YAML list, the
one its CLI uses first; takes (dict "root" $ "component" ...). Servers hold the management token
anyway (initial_management) and use it for their readiness probe (operator:read) and preStop
hand-over (operator:write). The restore Job puts every token back after a restore, as acl-init does.
*/}}
{{- define "consul.acl.componentTokens" -}}
{{- $tokens := dict
  "server" (list "management" "agent" "dns")
  "client" (list "agent" "dns")
  "autopilot" (list "management")
  "test" (list "test")
  "backup" (list "backup")
}}
{{- if has .component (list "acl-init" "restore") }}
{{- include "consul.acl.tokens" .root }}
{{- else }}
{{- toYaml (index $tokens .component) }}
{{- end }}
{{- end }}

{{/* consul.acl.accessorID: the fixed AccessorID of one token; takes (dict "root" $ "token" name). */}}
{{- define "consul.acl.accessorID" -}}
{{- $h := printf "%s/%s/%s" .root.Release.Namespace (include "consul.fullname" .root) .token | sha256sum }}
{{- printf "%s-%s-4%s-8%s-%s" (substr 0 8 $h) (substr 8 12 $h) (substr 13 16 $h) (substr 17 20 $h) (substr 20 32 $h) }}
{{- end }}

{{/*
consul.acl.policies: the chart's tokens and their least rights, as a YAML list of
{token, description, rules (Consul's JSON rule syntax, as YAML) | templatedPolicy}. The
management token is installed by the servers.
*/}}
{{- define "consul.acl.policies" -}}
- token: agent
  description: every agent's own token (node registration, anti-entropy, members, join)
  rules:
    node_prefix: {"": {policy: write}}
    service_prefix: {"": {policy: read}}
    agent_prefix: {"": {policy: write}}
- token: dns
  description: DNS lookups (the agents' acl.tokens.dns)
  templatedPolicy: builtin/dns
- token: metrics
  description: Prometheus scraping /v1/agent/metrics
  rules:
    agent_prefix: {"": {policy: read}}
- token: test
  description: helm test (leader, voters, members, a KV round trip under helm-test/)
  rules:
    operator: read
    node_prefix: {"": {policy: read}}
    key_prefix: {"helm-test/": {policy: write}}
{{- if .Values.backup.enabled }}
- token: backup
  description: scheduled snapshots (consul snapshot save checks acl write)
  rules:
    acl: write
{{- end }}
{{- end }}

{{/* consul.acl.config: the acl block of the agent configuration, as JSON (empty object when off). */}}
{{- define "consul.acl.config" -}}
{{- if .Values.acl.enabled }}
{{- toJson (dict "acl" (dict "enabled" true "default_policy" "deny" "down_policy" "extend-cache" "enable_token_persistence" true)) }}
{{- else -}}
{}
{{- end }}
{{- end }}

{{/*
consul.acl.syncScript: creates the chart's ACL policies and tokens (consul.acl.policies) once the
servers have a leader, or puts each back as it should be; fixed AccessorIDs and SecretIDs make
every step idempotent. Run by acl-init and, after a restore, by the restore Job; takes the chart
root ($).
*/}}
{{- define "consul.acl.syncScript" -}}
until timeout 10 consul acl policy list >/dev/null; do
  echo "the servers' ACL system is not up yet (no leader, or ACLs not on yet): retrying in 5s"
  sleep 5
done
policy() {
  if timeout 10 consul acl policy read -name "$1" >/dev/null 2>&1; then
    timeout 10 consul acl policy update -name "$1" -description "$2" -rules "$3" >/dev/null
  else
    timeout 10 consul acl policy create -name "$1" -description "$2" -rules "$3" >/dev/null
  fi
  echo "policy $1: ok"
}
# token ACCESSOR NAME DESCRIPTION POLICY_FLAG: create it, or re-create it if its
# SecretID is not the one in its Secret.
token() {
  secret=$(cat "/consul/secrets/$2-token")
  current=$(timeout 10 consul acl token read -accessor-id "$1" -format=json 2>/dev/null | jq -r .SecretID) || current=""
  [ "$current" = "$secret" ] && { echo "token $2: ok"; return; }
  [ -z "$current" ] || timeout 10 consul acl token delete -accessor-id "$1" >/dev/null
  timeout 10 consul acl token create -accessor "$1" -secret "$secret" -description "$3" "$4" >/dev/null
  echo "token $2: created"
}
{{- range include "consul.acl.policies" . | fromYamlArray }}
{{- $name := printf "%s-%s" (include "consul.fullname" $) .token }}
{{- $accessor := include "consul.acl.accessorID" (dict "root" $ "token" .token) }}
{{- if .templatedPolicy }}
token {{ $accessor }} {{ .token }} {{ .description | quote }} -templated-policy={{ .templatedPolicy }}
{{- else }}
policy {{ $name }} {{ .description | quote }} {{ toJson .rules | squote }}
token {{ $accessor }} {{ .token }} {{ .description | quote }} -policy-name={{ $name }}
{{- end }}
{{- end }}
{{- end }}
