{{/* Helpers of the client DaemonSet only. Each takes the chart root ($) unless it says so. */}}

{{/* consul.client.configChecksum: the checksum that rolls the clients when their configuration changes. */}}
{{- define "consul.client.configChecksum" -}}
{{- include "consul.config.client" . | sha256sum }}
{{- end }}

{{/*
consul.client.serverCheck: a shell test that the local agent reaches a server: its
/v1/status/leader is a Status RPC to any server it knows, answered with or without a leader (200,
"" then) and refused with "No known Consul servers" when it knows none. It needs no token.
*/}}
{{- define "consul.client.serverCheck" -}}
curl -sf{{ if .Values.tls.enabled }}k{{ end }} -o /dev/null --max-time 3 "$CONSUL_HTTP_ADDR/v1/status/leader"
{{- end }}

{{/*
consul.client.probes: startup, liveness and readiness of the client container, all answered by
the kubelet's own HTTP requests: an exec probe starts a process in the container through the
container runtime every period, which on a kind node cost more CPU than the release's idle
agents themselves (an idle 3+3 release: 11 % of a core for its probes against 9 % for the rest,
mostly in runc and containerd). Startup and
liveness ask only that the agent's HTTP server answers: "/" is its index (200, or a redirect to
the UI), with no token and no RPC, so a client that lost its servers is not restarted, and one
started while every server is down (a new node, an eviction during an outage) starts rather than
failing its startup probe after 300 s (restarts during a long server outage end in
CrashLoopBackOff, which then delays recovery by minutes); the rejoin container joins it. Readiness keeps DNS and the local API in the Services as long as the
agent reaches a server, leader or not (consul.client.serverCheck): Consul answers DNS from stale
state and accepts local registrations without a leader.
*/}}
{{- define "consul.client.probes" -}}
startupProbe:
  httpGet: {{ include "consul.pod.httpGet" (dict "root" . "path" "/") }}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet: {{ include "consul.pod.httpGet" (dict "root" . "path" "/") }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet: {{ include "consul.pod.httpGet" (dict "root" . "path" "/v1/status/leader") }}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 2
{{- end }}

{{/*
consul.client.rejoinContainer: Consul's retry_join runs only until the first join, so a client
whose servers all came back on new addresses would stay alone. This container joins it again
through the servers' Service whenever it reaches no server (consul.client.serverCheck), every
client.rejoinIntervalSeconds.
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
        echo "no server answers: joining {{ include "consul.joinAddress" . }}"
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
  {{- include "consul.jobs.resources" . | nindent 2 }}
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
