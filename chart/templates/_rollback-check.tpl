{{/*
The pre-rollback check (files/rollback-check.sh): a Job, its ServiceAccount and the Role that
lets it read the servers' StatefulSet and ConfigMap, all hooks of the revision rolled back to
(consul.hookAnnotations; helm prints a refusal's log).
*/}}

{{/* consul.rollbackCheck.name: the name of the check's Job, ServiceAccount, Role and RoleBinding. */}}
{{- define "consul.rollbackCheck.name" -}}
{{ include "consul.fullname" . }}-rollback-check
{{- end }}
