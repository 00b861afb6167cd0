{{/*
Helpers of ACLs (acl.*). Each takes the chart root ($) unless it says so.

Every token the chart uses has an AccessorID derived from the release (not secret, the same on
every render) and a SecretID made once by the secrets-init Job, so the acl-init Job can create
each token idempotently with `consul acl token create -accessor -secret`.
*/}}

{{/*
consul.acl.componentTokens: the tokens (by name) a component's pods mount, as a YAML list;
takes the component name. Servers hold the management token anyway (initial_management) and
use it for their readiness probe (operator:read) and preStop hand-over (operator:write).
*/}}
{{- define "consul.acl.componentTokens" -}}
{{- $tokens := dict
  "server" (list "management" "agent" "dns")
  "client" (list "agent" "dns")
  "acl-init" (list "management" "agent" "dns" "metrics" "test")
  "autopilot" (list "management")
  "test" (list "test")
}}
{{- toYaml (index $tokens .) }}
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
{{- end }}

{{/* consul.acl.config: the acl block of the agent configuration, as JSON (empty object when off). */}}
{{- define "consul.acl.config" -}}
{{- if .Values.acl.enabled }}
{{- toJson (dict "acl" (dict "enabled" true "default_policy" "deny" "down_policy" "extend-cache" "enable_token_persistence" true)) }}
{{- else -}}
{}
{{- end }}
{{- end }}
