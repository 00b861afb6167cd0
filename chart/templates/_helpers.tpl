{{/* Names, labels and small shared fragments. */}}

{{- define "consul.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Object name prefix. Truncated to 45 so that "-gossip-keygen", "-client-config" and the StatefulSet's
controller-revision-hash label still fit in 63 characters.
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

{{- define "consul.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select this release's pods; never change them (selectors are immutable). */}}
{{- define "consul.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consul.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "consul.labels" -}}
helm.sh/chart: {{ include "consul.chart" . }}
{{ include "consul.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: consul
{{- end }}

{{/* Labels of one component: (dict "root" $ "component" "server"). */}}
{{- define "consul.componentLabels" -}}
{{ include "consul.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "consul.componentSelectorLabels" -}}
{{ include "consul.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference: a digest, when given, pins the image and wins over the tag. */}}
{{- define "consul.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* ServiceAccount name of a component: (dict "root" $ "component" "server"). */}}
{{- define "consul.serviceAccountName" -}}
{{- $sa := index .root.Values .component "serviceAccount" }}
{{- if $sa.create }}
{{- default (printf "%s-%s" (include "consul.fullname" .root) .component) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
The one DNS name every agent joins through: the servers' headless Service. Without a
clusterDomain the pod's DNS search path completes `<service>.<namespace>.svc`, whatever the
cluster's domain is.
*/}}
{{- define "consul.joinAddress" -}}
{{- $name := printf "%s-server.%s.svc" (include "consul.fullname" .) .Release.Namespace }}
{{- if .Values.clusterDomain }}
{{- printf "%s.%s" $name .Values.clusterDomain }}
{{- else }}
{{- $name }}
{{- end }}
{{- end }}

{{- define "consul.gossipSecretName" -}}
{{- default (printf "%s-gossip-key" (include "consul.fullname" .)) .Values.gossipEncryption.existingSecret }}
{{- end }}

{{/* Raft quorum of the configured server count. */}}
{{- define "consul.quorum" -}}
{{- add (div .Values.server.replicas 2) 1 }}
{{- end }}

{{/* Marks the agent pods (servers and clients), which the DNS Service selects together. */}}
{{- define "consul.agentLabel" -}}
consul-agent: "true"
{{- end }}

{{/*
The gossip key Secret is made in the cluster by a hook Job, not rendered from the template: a
key rendered by `helm template` or a GitOps tool (where `lookup` sees nothing) would change on
every render, while servers keep the first key in their keyring on disk. Hook objects carry
these annotations; the Job runs after its ServiceAccount and RBAC (lower weight).
*/}}
{{- define "consul.keygenEnabled" -}}
{{- if and .Values.gossipEncryption.enabled (not .Values.gossipEncryption.existingSecret) }}true{{ end }}
{{- end }}

{{/*
Hook annotations of the keygen objects: (dict "weight" N "keepOnFailure" bool). The Job is kept
when it fails, for its logs; its ServiceAccount and RBAC (create on Secrets) never are.
*/}}
{{- define "consul.keygenHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded{{ if not .keepOnFailure }},hook-failed{{ end }}
{{- end }}
