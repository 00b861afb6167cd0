{{/* Pieces shared by the server and client pod templates. */}}

{{/* Environment of an agent container: (dict "root" $ "extra" .Values.server.extraEnv). */}}
{{- define "consul.agentEnv" -}}
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
      name: {{ include "consul.gossipSecretName" .root }}
      key: {{ .root.Values.gossipEncryption.secretKey }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Agent command: (dict "root" $ "args" (list ...)). dumb-init is PID 1, so probe processes that a
timeout killed are reaped (the agent as PID 1 never reaps them) and signals reach the agent.
The advertise address is the pod IP (the node has several interfaces); the gossip key comes
from the Secret through the environment so it never lands in a ConfigMap.
*/}}
{{- define "consul.agentCommand" -}}
- dumb-init
- --
- consul
- agent
- -config-dir=/consul/config
- -advertise=$(POD_IP)
{{- if .root.Values.gossipEncryption.enabled }}
- -encrypt=$(GOSSIP_KEY)
{{- end }}
{{- range .args }}
- {{ . }}
{{- end }}
{{- end }}

{{- define "consul.podSpecCommon" -}}
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
Pod template metadata of a component: (dict "root" $ "component" "server" "checksum" ...), the
checksum being the component's consul.<component>.configChecksum.
*/}}
{{- define "consul.podMetadata" -}}
{{- $c := index .root.Values .component -}}
labels:
  {{- include "consul.componentLabels" . | nindent 2 }}
  {{- include "consul.agentLabel" . | nindent 2 }}
  {{- with $c.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ .checksum }}
  {{- with $c.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* Volume mounts every agent has: its config, its data dir and a writable /tmp. */}}
{{- define "consul.agentVolumeMounts" -}}
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

{{- define "consul.agentVolumes" -}}
- name: config
  configMap:
    name: {{ include "consul.fullname" .root }}-{{ .component }}-config
- name: tmp
  emptyDir: {}
{{- with (index .root.Values .component).extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
