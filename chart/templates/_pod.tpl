{{/*
Pieces shared by the server and client pod templates, and only those. Each takes
(dict "root" $ "component" "server"|"client") and reads that component's values.
*/}}

{{/* consul.pod.agentEnv: the agent container's environment (pod IP, node name, gossip key, extraEnv). */}}
{{- define "consul.pod.agentEnv" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- if .root.Values.gossipEncryption.enabled }}
- name: GOSSIP_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "consul.gossip.secretName" .root }}
      key: {{ .root.Values.gossipEncryption.secretKey }}
{{- end }}
{{- with (index .root.Values .component).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
consul.pod.agentCommand: the agent container's command. dumb-init is PID 1, so probe processes
that a timeout killed are reaped (the agent as PID 1 never reaps them) and signals reach the
agent. The advertise address is the pod IP (the node has several interfaces); the gossip key
comes from the Secret through the environment so it never lands in a ConfigMap. A client is
named after its Kubernetes node; a server after its pod.
*/}}
{{- define "consul.pod.agentCommand" -}}
- dumb-init
- --
- consul
- agent
- -config-dir=/consul/config
- -advertise=$(POD_IP)
{{- if .root.Values.gossipEncryption.enabled }}
- -encrypt=$(GOSSIP_KEY)
{{- end }}
{{- if eq .component "client" }}
- -node=$(NODE_NAME)
{{- end }}
{{- end }}

{{/* consul.pod.specCommon: the pod spec fields both components set the same way from their values. */}}
{{- define "consul.pod.specCommon" -}}
serviceAccountName: {{ include "consul.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $c := index .root.Values .component }}
terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
{{- with $c.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
consul.pod.metadata: the pod template's labels and annotations, with the checksum of the
component's own configuration (consul.server.configChecksum or consul.client.configChecksum).
*/}}
{{- define "consul.pod.metadata" -}}
{{- $c := index .root.Values .component -}}
labels:
  {{- include "consul.componentLabels" . | nindent 2 }}
  {{- include "consul.agentLabel" . | nindent 2 }}
  {{- with $c.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  {{- if eq .component "server" }}
  checksum/config: {{ include "consul.server.configChecksum" .root }}
  {{- else }}
  checksum/config: {{ include "consul.client.configChecksum" .root }}
  {{- end }}
  {{- with $c.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* consul.pod.volumeMounts: the agent's config, data dir and writable /tmp, and extraVolumeMounts. */}}
{{- define "consul.pod.volumeMounts" -}}
- name: config
  mountPath: /consul/config
  readOnly: true
- name: data
  mountPath: /consul/data
- name: tmp
  mountPath: /tmp
{{- with (index .root.Values .component).extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* consul.pod.volumes: the config and /tmp volumes, and extraVolumes (each component adds its data volume). */}}
{{- define "consul.pod.volumes" -}}
- name: config
  configMap:
    name: {{ include "consul.fullname" .root }}-{{ .component }}-config
- name: tmp
  emptyDir: {}
{{- with (index .root.Values .component).extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
