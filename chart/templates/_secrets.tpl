{{/*
Helpers of the Secrets the agents read: the gossip key, the TLS CA and server certificate, the
ACL tokens. Each takes the chart root ($) unless it says so.

None of them is rendered from the template: a key, certificate or token made by `helm template`
or a GitOps tool (where `lookup` sees nothing) would change on every render, while servers keep
the first in their keyring, raft state and clients' trust. The secrets-init hook Job makes each
missing one in the cluster and never changes one that exists (the server certificate excepted:
it is reissued when its names change or its expiry nears). None is a Helm object, so `helm
uninstall` leaves them for a reinstall onto the old volumes.
*/}}

{{/* consul.gossip.secretName: the Secret holding the gossip key, the user's or the one the Job makes. */}}
{{- define "consul.gossip.secretName" -}}
{{- default (printf "%s-gossip-key" (include "consul.fullname" .)) .Values.gossipEncryption.existingSecret }}
{{- end }}

{{/* consul.tls.caSecretName: the Secret holding the CA (tls.crt, tls.key), the user's or the Job's. */}}
{{- define "consul.tls.caSecretName" -}}
{{- default (printf "%s-ca" (include "consul.fullname" .)) .Values.tls.ca.existingSecret }}
{{- end }}

{{/* consul.tls.serverSecretName: the Secret holding the servers' certificate (tls.crt, tls.key), the user's or the Job's. */}}
{{- define "consul.tls.serverSecretName" -}}
{{- default (printf "%s-server-tls" (include "consul.fullname" .)) .Values.tls.server.existingSecret }}
{{- end }}

{{/* consul.acl.tokenSecretName: the Secret holding one ACL token (key `token`); takes (dict "root" $ "token" name). */}}
{{- define "consul.acl.tokenSecretName" -}}
{{- if and (eq .token "management") .root.Values.acl.managementToken.existingSecret }}
{{- .root.Values.acl.managementToken.existingSecret }}
{{- else }}
{{- printf "%s-acl-%s" (include "consul.fullname" .root) .token }}
{{- end }}
{{- end }}

{{/* consul.acl.tokenSecretKey: the key of a token inside its Secret; takes (dict "root" $ "token" name). */}}
{{- define "consul.acl.tokenSecretKey" -}}
{{- if and (eq .token "management") .root.Values.acl.managementToken.existingSecret }}
{{- .root.Values.acl.managementToken.secretKey }}
{{- else -}}
token
{{- end }}
{{- end }}

{{/*
consul.secrets.made: what the secrets-init Job makes when absent, as a YAML list of {name, kind}:
the Secrets, and the backup volume claim (kept across uninstall like them, and made by a hook
because `helm install --wait` would wait forever for a chart claim in a WaitForFirstConsumer
class, bound only when the first snapshot runs). Empty when the user supplies them all.
*/}}
{{- define "consul.secrets.made" -}}
{{- $out := list }}
{{- if and .Values.gossipEncryption.enabled (not .Values.gossipEncryption.existingSecret) }}
{{- $out = append $out (dict "name" (include "consul.gossip.secretName" .) "kind" "gossip-key") }}
{{- end }}
{{- if .Values.acl.enabled }}
{{- range $token := include "consul.acl.tokens" . | fromYamlArray }}
{{- if or (ne $token "management") (not $.Values.acl.managementToken.existingSecret) }}
{{- $out = append $out (dict "name" (include "consul.acl.tokenSecretName" (dict "root" $ "token" $token)) "kind" "acl-token") }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.ca.existingSecret) }}
{{- $out = append $out (dict "name" (include "consul.tls.caSecretName" .) "kind" "tls-ca") }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.server.existingSecret) }}
{{- $out = append $out (dict "name" (include "consul.tls.serverSecretName" .) "kind" "tls-server") }}
{{- end }}
{{- if and .Values.backup.enabled (not .Values.backup.persistence.existingClaim) }}
{{- $out = append $out (dict "name" (include "consul.backup.claimName" .) "kind" "backup-claim") }}
{{- end }}
{{- with $out }}{{ toYaml . }}{{ end }}
{{- end }}

{{/*
consul.secrets.volume: a projected volume of the secret files a pod of the chart reads, under
/consul/secrets: for agents gossip-key; ca.crt (never the CA's key); on servers server.crt and
server.key; the ACL tokens of consul.acl.componentTokens. Takes (dict "root" $ "component" ...).
*/}}
{{- define "consul.secrets.volume" -}}
{{- $v := .root.Values }}
{{- $sources := list }}
{{- if and (has .component (list "server" "client")) $v.gossipEncryption.enabled }}
{{- $sources = append $sources (dict "name" (include "consul.gossip.secretName" .root) "items" (list (dict "key" $v.gossipEncryption.secretKey "path" "gossip-key"))) }}
{{- end }}
{{- if $v.tls.enabled }}
{{- $sources = append $sources (dict "name" (include "consul.tls.caSecretName" .root) "items" (list (dict "key" "tls.crt" "path" "ca.crt"))) }}
{{- if eq .component "server" }}
{{- $sources = append $sources (dict "name" (include "consul.tls.serverSecretName" .root) "items" (list (dict "key" "tls.crt" "path" "server.crt") (dict "key" "tls.key" "path" "server.key"))) }}
{{- end }}
{{- end }}
{{- if $v.acl.enabled }}
{{- range $token := include "consul.acl.componentTokens" . | fromYamlArray }}
{{- $sources = append $sources (dict "name" (include "consul.acl.tokenSecretName" (dict "root" $.root "token" $token)) "items" (list (dict "key" (include "consul.acl.tokenSecretKey" (dict "root" $.root "token" $token)) "path" (printf "%s-token" $token)))) }}
{{- end }}
{{- end }}
- name: secrets
{{- if $sources }}
  projected:
    defaultMode: 0440
    sources:
      {{- range $sources }}
      - secret: {{ toJson . }}
      {{- end }}
{{- else }}
  # Nothing secret to read with these values; the volume stays so the mount does not vary.
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
{{- end }}
{{- end }}
