{{/*
The chart's short-lived pods (the secrets-init, autopilot, acl-init and rollback-check Jobs, the
`helm test` pod) and the client's data-dir init container take their resources and scheduling
from the `jobs` values, and the snapshot and restore pods their scheduling (they keep
backup.resources): in a namespace with a ResourceQuota that requires limits, a LimitRange with a
minimum, or only tainted nodes, one block makes all of them fit.
*/}}

{{/*
consul.jobs.scheduling: the pod spec fields that place a short-lived pod; takes the `jobs`
values (the snapshot pods pass them with their own backup.nodeSelector and backup.tolerations).
*/}}
{{- define "consul.jobs.scheduling" -}}
{{- $j := . }}
{{- with $j.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $j.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $j.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $j.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* consul.jobs.resources: the resources of a short-lived container. */}}
{{- define "consul.jobs.resources" -}}
resources:
  {{- toYaml .Values.jobs.resources | nindent 2 }}
{{- end }}
