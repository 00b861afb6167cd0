{{/*
consul.server.podTemplate: the servers' pod template. Its checksum is on the StatefulSet too
(checksum/pod-template), so that an upgrade can tell whether it rolls the servers
(consul.validate.installed).
*/}}
{{- define "consul.server.podTemplate" -}}
{{- $ctx := dict "root" . "component" "server" }}
{{- $s := .Values.server -}}
metadata:
  {{- include "consul.pod.metadata" $ctx | nindent 2 }}
spec:
  {{- include "consul.pod.specCommon" $ctx | nindent 2 }}
  {{- with (include "consul.server.affinity" .) }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with $s.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- include "consul.server.topologySpreadConstraints" $ | nindent 4 }}
  {{- end }}
  containers:
    - name: consul
      image: {{ include "consul.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        {{- include "consul.pod.agentCommand" $ctx | nindent 8 }}
      env:
        {{- include "consul.pod.agentEnv" $ctx | nindent 8 }}
      ports:
        - {name: server, containerPort: 8300, protocol: TCP}
        - {name: serflan-tcp, containerPort: 8301, protocol: TCP}
        - {name: serflan-udp, containerPort: 8301, protocol: UDP}
        - {name: http, containerPort: 8500, protocol: TCP}
        {{- if .Values.tls.enabled }}
        - {name: https, containerPort: 8501, protocol: TCP}
        {{- end }}
        - {name: dns-tcp, containerPort: 8600, protocol: TCP}
        - {name: dns-udp, containerPort: 8600, protocol: UDP}
      {{- include "consul.server.probes" . | nindent 6 }}
      lifecycle:
        preStop:
          {{- include "consul.server.preStop" . | nindent 10 }}
      resources:
        {{- toYaml $s.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        {{- include "consul.pod.volumeMounts" $ctx | nindent 8 }}
    {{- with $s.extraContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    {{- include "consul.pod.volumes" $ctx | nindent 4 }}
    {{- if not $s.persistence.enabled }}
    - name: data
      emptyDir: {}
    {{- end }}
{{- end }}
