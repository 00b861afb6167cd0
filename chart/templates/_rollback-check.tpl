{{/*
The pre-rollback check (files/rollback-check.sh): a Job, its ServiceAccount and the Role that
lets it read the servers' StatefulSet and ConfigMap, all hooks of the revision rolled back to.
*/}}

{{/*
consul.rollbackCheck.hookAnnotations: the ServiceAccount and RBAC come first (lower weights); the
Job is kept when it fails, and helm prints its log, the reason, and its ServiceAccount and RBAC
are never kept. Takes (dict "weight" N "job" bool).
*/}}
{{- define "consul.rollbackCheck.hookAnnotations" -}}
helm.sh/hook: pre-rollback
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded{{ if not .job }},hook-failed{{ end }}
{{- if .job }}
helm.sh/hook-output-log-policy: hook-failed
{{- end }}
{{- end }}

{{/* consul.rollbackCheck.name: the name of the check's Job, ServiceAccount, Role and RoleBinding. */}}
{{- define "consul.rollbackCheck.name" -}}
{{ include "consul.fullname" . }}-rollback-check
{{- end }}
