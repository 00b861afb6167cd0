{{/*
Names and labels. Helpers take the chart root ($), except those of one component, which take
the chart's one context shape: (dict "root" $ "component" "server"|"client"|...).
*/}}

{{/* consul.name: the chart name (or nameOverride), for app.kubernetes.io/name. */}}
{{- define "consul.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
consul.fullname: the object name prefix. Truncated to 45 so that "-acl-management",
"-client-config" and the StatefulSet's controller-revision-hash label still fit in 63 characters.
*/}}
{{- define "consul.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* consul.chart: <name>-<version> for the helm.sh/chart label. */}}
{{- define "consul.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* consul.selectorLabels: the labels that select this release's pods; never change them (selectors are immutable). */}}
{{- define "consul.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consul.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* consul.labels: the labels of every object of the release. */}}
{{- define "consul.labels" -}}
helm.sh/chart: {{ include "consul.chart" . }}
{{ include "consul.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: consul
{{- end }}

{{/* consul.componentLabels: the labels of one component's objects; takes (dict "root" $ "component" ...). */}}
{{- define "consul.componentLabels" -}}
{{ include "consul.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
consul.componentSelectorLabels: the labels that select one component's pods, and all the labels
the chart puts on its pod templates (agents add consul.agentLabel and the user's podLabels). The
chart and app versions stay off pod templates: there a chart bump alone would restart every
agent, and drop the services registered through clients with an emptyDir data dir.
Takes (dict "root" $ "component" ...).
*/}}
{{- define "consul.componentSelectorLabels" -}}
{{ include "consul.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* consul.image: the image reference; a digest, when given, pins the image and wins over the tag. */}}
{{- define "consul.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* consul.serviceAccountName: a component's ServiceAccount name; takes (dict "root" $ "component" ...). */}}
{{- define "consul.serviceAccountName" -}}
{{- $sa := index .root.Values .component "serviceAccount" }}
{{- if $sa.create }}
{{- default (printf "%s-%s" (include "consul.fullname" .root) .component) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
consul.joinAddress: the one DNS name every agent joins through, the servers' headless Service.
Without a clusterDomain the pod's DNS search path completes `<service>.<namespace>.svc`,
whatever the cluster's domain is.
*/}}
{{- define "consul.joinAddress" -}}
{{- $name := printf "%s-server.%s.svc" (include "consul.fullname" .) .Release.Namespace }}
{{- if .Values.clusterDomain }}
{{- printf "%s.%s" $name .Values.clusterDomain }}
{{- else }}
{{- $name }}
{{- end }}
{{- end }}

{{/* consul.agentLabel: the label of every agent pod (servers and clients), which the DNS Service selects. */}}
{{- define "consul.agentLabel" -}}
consul-agent: "true"
{{- end }}

{{/*
consul.hookAnnotations: the annotations of a hook object whose ServiceAccount and RBAC run first
(lower weights); the Job is kept when it fails, for its log (which helm prints with
printOnFailure), and the ServiceAccount and RBAC never are. Takes (dict "hook" "pre-install,..."
"weight" N "keepOnFailure" bool "printOnFailure" bool).
*/}}
{{- define "consul.hookAnnotations" -}}
helm.sh/hook: {{ .hook }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded{{ if not .keepOnFailure }},hook-failed{{ end }}
{{- if .printOnFailure }}
helm.sh/hook-output-log-policy: hook-failed
{{- end }}
{{- end }}
