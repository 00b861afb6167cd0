{{/*
Helpers of gossip encryption. Each takes the chart root ($) unless it says so.

The gossip key Secret is made in the cluster by a hook Job, not rendered from the template: a
key rendered by `helm template` or a GitOps tool (where `lookup` sees nothing) would change on
every render, while servers keep the first key in their keyring on disk.
*/}}

{{/* consul.gossip.secretName: the Secret holding the key, the user's or the one the Job makes. */}}
{{- define "consul.gossip.secretName" -}}
{{- default (printf "%s-gossip-key" (include "consul.fullname" .)) .Values.gossipEncryption.existingSecret }}
{{- end }}

{{/* consul.gossip.keygenEnabled: "true" when the chart makes the key (encryption on, no existingSecret), else empty. */}}
{{- define "consul.gossip.keygenEnabled" -}}
{{- if and .Values.gossipEncryption.enabled (not .Values.gossipEncryption.existingSecret) }}true{{ end }}
{{- end }}

{{/*
consul.gossip.keygenHookAnnotations: hook annotations of the keygen objects; takes
(dict "weight" N "keepOnFailure" bool). The Job runs after its ServiceAccount and RBAC (lower
weights); it is kept when it fails, for its logs, while its ServiceAccount and RBAC (create on
Secrets) never are.
*/}}
{{- define "consul.gossip.keygenHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded{{ if not .keepOnFailure }},hook-failed{{ end }}
{{- end }}
