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
Agent command. The advertise address is the pod IP (the node has several interfaces); the
gossip key comes from the Secret through the environment so it never lands in a ConfigMap.
*/}}
{{- define "consul.agentCommand" -}}
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

{{/* Readiness of a client: it knows the cluster's leader. */}}
{{- define "consul.clientReadinessProbe" -}}
exec:
  command:
    - /bin/sh
    - -ec
    - curl -sf http://127.0.0.1:8500/v1/status/leader | grep -q '[0-9]'
periodSeconds: 5
timeoutSeconds: 5
failureThreshold: 2
{{- end }}

{{/*
Readiness of a server: the leader lists it as a voter. Autopilot re-adds a returning server as
a non-voter until it is stable; a rolling update must not stop the next server before then.
*/}}
{{- define "consul.serverReadinessProbe" -}}
exec:
  command:
    - /bin/sh
    - -ec
    - >-
      curl -sf http://127.0.0.1:8500/v1/operator/raft/configuration
      | jq -e --arg node "$HOSTNAME" '.Servers[] | select(.Node == $node) | .Voter' >/dev/null
periodSeconds: 5
timeoutSeconds: 5
failureThreshold: 2
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

{{/* Pod template metadata of a component: (dict "root" $ "component" "server"). */}}
{{- define "consul.podMetadata" -}}
{{- $c := index .root.Values .component -}}
labels:
  {{- include "consul.componentLabels" . | nindent 2 }}
  {{- include "consul.agentLabel" . | nindent 2 }}
  {{- with $c.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (printf "consul.config.%s" .component) .root | sha256sum }}
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

{{/* Server affinity: the user's `server.affinity` replaces the preset entirely. */}}
{{- define "consul.serverAffinity" -}}
{{- $s := .Values.server }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "consul.componentSelectorLabels" (dict "root" . "component" "server") | fromYaml)) }}
{{- if $s.affinity }}
{{- toYaml $s.affinity }}
{{- else if eq $s.podAntiAffinityPreset "hard" }}
{{- toYaml (dict "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term))) }}
{{- else if eq $s.podAntiAffinityPreset "soft" }}
{{- toYaml (dict "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term)))) }}
{{- end }}
{{- end }}

{{/* Spread constraints select the server pods unless the user gave a labelSelector. */}}
{{- define "consul.topologySpreadConstraints" -}}
{{- $selector := dict "matchLabels" (include "consul.componentSelectorLabels" (dict "root" . "component" "server") | fromYaml) }}
{{- $out := list }}
{{- range .Values.server.topologySpreadConstraints }}
{{- $c := deepCopy . }}
{{- if not (hasKey $c "labelSelector") }}
{{- $_ := set $c "labelSelector" $selector }}
{{- end }}
{{- $out = append $out $c }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* A client is healthy while it knows at least one live server. */}}
{{- define "consul.clientServerCheck" -}}
exec:
  command:
    - /bin/sh
    - -ec
    - consul members -status=alive | awk '$4 == "server" { found = 1 } END { exit !found }'
{{- end }}
