{{/* Helpers of the client DaemonSet only. Each takes the chart root ($) unless it says so. */}}

{{/* consul.client.configChecksum: the checksum that rolls the clients when their configuration changes. */}}
{{- define "consul.client.configChecksum" -}}
{{- include "consul.config.client" . | sha256sum }}
{{- end }}

{{/* consul.client.serverCheck: a shell test that the local agent knows at least one live server. */}}
{{- define "consul.client.serverCheck" -}}
timeout 3 consul members -status=alive | awk '$4 == "server" { found = 1 } END { exit !found }'
{{- end }}

{{/*
consul.client.probes: startup, liveness and readiness of the client container. Liveness asks
only that the agent answers HTTP: a client that lost its servers is not restarted (restarts
during a long server outage end in CrashLoopBackOff, which then delays recovery by minutes);
the rejoin container brings it back. Readiness keeps DNS and the local API in the Services as
long as the agent knows a live server, leader or not: Consul answers DNS from stale state and
accepts local registrations without a leader.
*/}}
{{- define "consul.client.probes" -}}
startupProbe:
  exec:
    command: [/bin/sh, -ec, {{ include "consul.client.serverCheck" . | quote }}]
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 60
livenessProbe:
  exec:
    command: [/bin/sh, -ec, 'curl -s{{ if .Values.tls.enabled }}k{{ end }} -o /dev/null --max-time 3 "$CONSUL_HTTP_ADDR/v1/agent/self"']
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  exec:
    command: [/bin/sh, -ec, {{ include "consul.client.serverCheck" . | quote }}]
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 2
{{- end }}

{{/*
consul.client.rejoinContainer: Consul's retry_join runs only until the first join, so a client
whose servers all came back on new addresses would stay alone. This container joins it again
through the servers' Service whenever it knows no live server, every client.rejoinIntervalSeconds.
*/}}
{{- define "consul.client.rejoinContainer" -}}
- name: rejoin
  image: {{ include "consul.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  env:
    {{- include "consul.pod.cliEnv" (dict "root" . "component" "client") | nindent 4 }}
  command:
    - dumb-init
    - /bin/sh
    - -c
    - |
      trap 'exit 0' TERM
      while :; do
        sleep {{ .Values.client.rejoinIntervalSeconds }} & wait $!
        {{ include "consul.client.serverCheck" . }} && continue
        echo "no live server known: joining {{ include "consul.joinAddress" . }}"
        timeout 10 consul join {{ include "consul.joinAddress" . | quote }} || true
      done
  resources:
    {{- toYaml .Values.client.rejoinResources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  {{- if .Values.acl.enabled }}
  volumeMounts:
    - {name: secrets, mountPath: /consul/secrets, readOnly: true}
  {{- end }}
{{- end }}

{{/*
consul.client.dataVolume: the client's data dir. With client.dataHostPath.enabled it is a
directory per release on the node, so a replaced client pod keeps its node ID and the services
and checks registered through it; otherwise an emptyDir that goes with the pod.
*/}}
{{- define "consul.client.dataVolume" -}}
- name: data
{{- if .Values.client.dataHostPath.enabled }}
  hostPath:
    path: {{ include "consul.client.dataHostPath" . }}
    type: DirectoryOrCreate
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{/* consul.client.dataHostPath: the client data dir on the node, one per release. */}}
{{- define "consul.client.dataHostPath" -}}
{{- printf "%s/%s/%s" (trimSuffix "/" .Values.client.dataHostPath.root) .Release.Namespace (include "consul.fullname" .) }}
{{- end }}

{{/*
consul.client.dataInitContainer: kubelet creates a hostPath directory owned by root, and
fsGroup does not apply to hostPath volumes: hand it to the agent's user, mode 0700, with
CAP_CHOWN and CAP_FOWNER only (FOWNER to chmod once the directory is no longer root's).
*/}}
{{- define "consul.client.dataInitContainer" -}}
- name: data-owner
  image: {{ include "consul.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -ec
    - chown {{ .Values.podSecurityContext.runAsUser | default 100 }}:{{ .Values.podSecurityContext.runAsGroup | default 1000 }} /consul/data && chmod 0700 /consul/data
  resources:
    requests: {cpu: 10m, memory: 16Mi}
    limits: {memory: 32Mi}
  securityContext:
    runAsUser: 0
    runAsGroup: 0
    runAsNonRoot: false
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: [ALL]
      add: [CHOWN, FOWNER]
  volumeMounts:
    - name: data
      mountPath: /consul/data
{{- end }}
