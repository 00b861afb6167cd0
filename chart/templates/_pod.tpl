{{/*
Pieces shared by the server and client pod templates, and only those, except consul.pod.cliEnv,
which every pod that runs the consul CLI uses (agents, rejoin, autopilot, acl-init, helm test).
Each takes (dict "root" $ "component" ...) and reads that component's values.
*/}}

{{/* consul.pod.agentEnv: the agent container's environment (pod IP, node name, GOMEMLIMIT, the CLI's, extraEnv). */}}
{{- define "consul.pod.agentEnv" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- /* The Go runtime collects garbage harder as the heap nears the limit, instead of letting
it grow to twice the live data and meeting the OOM killer first. */}}
{{- if dig "limits" "memory" "" (index .root.Values .component).resources }}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      containerName: consul
      resource: limits.memory
{{- end }}
{{ include "consul.pod.cliEnv" . }}
{{- with (index .root.Values .component).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
consul.pod.cliEnv: where the consul CLI (and the probes' curl) finds the API, the CA and the
token; takes (dict "root" $ "component" ... ["url" URL]). Without url it is the pod's own agent.
A client agent's HTTPS certificate comes from auto-encrypt, signed by the servers' Connect CA
rather than the chart's, so on its loopback the CLI does not verify it.
*/}}
{{- define "consul.pod.cliEnv" -}}
{{- $v := .root.Values }}
- name: CONSUL_HTTP_ADDR
  value: {{ .url | default (ternary "https://127.0.0.1:8501" "http://127.0.0.1:8500" $v.tls.enabled) | quote }}
{{- if and $v.tls.enabled (eq .component "client") }}
- {name: CONSUL_HTTP_SSL_VERIFY, value: "false"}
{{- else if $v.tls.enabled }}
- {name: CONSUL_CACERT, value: /consul/secrets/ca.crt}
{{- end }}
{{- if $v.acl.enabled }}
- name: CONSUL_HTTP_TOKEN_FILE
  value: /consul/secrets/{{ first (include "consul.acl.componentTokens" . | fromYamlArray) }}-token
{{- end }}
{{- end }}

{{/*
consul.pod.httpGet: a probe's httpGet on the agent's own API, as JSON; takes (dict "root" $
"path" PATH). Over HTTPS when plain HTTP is off; the kubelet does not check the certificate.
*/}}
{{- define "consul.pod.httpGet" -}}
{{- if and .root.Values.tls.enabled .root.Values.tls.httpsOnly }}
{{- toJson (dict "path" .path "port" "https" "scheme" "HTTPS") }}
{{- else }}
{{- toJson (dict "path" .path "port" "http") }}
{{- end }}
{{- end }}

{{/*
consul.pod.agentCommand: the agent container's command. dumb-init is PID 1, so probe processes
that a timeout killed are reaped (the agent as PID 1 never reaps them) and signals reach the
agent. A data dir without a node ID gets one derived from the release and the node's name: a
reinstall onto new volumes, and a restore of a snapshot into it, then find every node in the
catalog under its old ID (Consul refuses a known node name with a new ID: "Node name ... is
reserved"). The shell then writes the secrets (gossip key, ACL tokens) from their files into a
config file in memory and execs the agent: they reach neither a ConfigMap, nor the environment,
nor the agent's arguments. A client's data dir on the node (client.dataHostPath) outlives the
release: one whose keyring lacks the gossip key the cluster uses (a reinstall with a new key, or
a rotation that went by while the node was down) would never join, and is emptied first. The
agent reads a copy of its ConfigMap taken when the pod started
(a container restart keeps it): with auto_reload_config it would take a new configuration as
soon as the kubelet syncs the mounted ConfigMap, on every pod at once, before a rolling update
(or a held updatePartition, or OnDelete clients) got to it; the certificates it watches stay the
live files under /consul/secrets. The
advertise address is the pod IP (the node has several interfaces). A client is named after its
Kubernetes node; a server after its pod.
*/}}
{{- define "consul.pod.agentCommand" -}}
{{- $v := .root.Values }}
{{- $set := list }}
{{- if $v.gossipEncryption.enabled }}
{{- $set = append $set (list "encrypt" "gossip-key") }}
{{- end }}
{{- if $v.acl.enabled }}
{{- $set = concat $set (list (list "acl.tokens.agent" "agent-token") (list "acl.tokens.dns" "dns-token")) }}
{{- if eq .component "server" }}
{{- $set = append $set (list "acl.tokens.initial_management" "management-token") }}
{{- end }}
{{- end }}
- dumb-init
- --
- /bin/sh
- -ec
- |
  umask 077
  jq -n{{ range $set }} --rawfile {{ index . 1 | replace "-" "_" }} /consul/secrets/{{ index . 1 }}{{ end }} '{}
  {{- range $set }} | .{{ index . 0 }} = (${{ index . 1 | replace "-" "_" }} | rtrimstr("\n")){{ end }}' >/consul/run/secrets.json
  {{- if and (eq .component "client") $v.client.dataHostPath.enabled $v.gossipEncryption.enabled }}
  if [ -s /consul/data/serf/local.keyring ] && ! jq -e --rawfile key /consul/secrets/gossip-key \
    'any(.[]; . == ($key | rtrimstr("\n")))' /consul/data/serf/local.keyring >/dev/null; then
    echo "the data dir on this node holds a gossip keyring without the cluster's key (another cluster's, or a key rotation this node missed): starting with an empty data dir" >&2
    find /consul/data -mindepth 1 -delete
  fi
  {{- end }}
  {{- $name := ternary "$HOSTNAME" "$NODE_NAME" (eq .component "server") }}
  [ -s /consul/data/node-id ] || printf '%s' "{{ .root.Release.Namespace }}/{{ include "consul.fullname" .root }}/{{ .component }}/{{ $name }}" | sha256sum \
    | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/' | tr -d '\n' >/consul/data/node-id
  if [ ! -d /consul/run/config ]; then
    rm -rf /consul/run/config.new && mkdir /consul/run/config.new
    cp -L /consul/config/*.json /consul/run/config.new/ && mv /consul/run/config.new /consul/run/config
  fi
  exec consul agent -config-dir=/consul/run/config -config-file=/consul/run/secrets.json -advertise="$POD_IP"
  {{- if eq .component "client" }} -node="$NODE_NAME"{{ end }}
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
  {{- include "consul.componentSelectorLabels" . | nindent 2 }}
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

{{/* consul.pod.volumeMounts: the agent's config, data dir, writable /tmp, secrets, and extraVolumeMounts. */}}
{{- define "consul.pod.volumeMounts" -}}
- name: config
  mountPath: /consul/config
  readOnly: true
- name: data
  mountPath: /consul/data
- name: tmp
  mountPath: /tmp
- name: run
  mountPath: /consul/run
- name: secrets
  mountPath: /consul/secrets
  readOnly: true
{{- with (index .root.Values .component).extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
consul.pod.volumes: the config, /tmp, run and secrets volumes, and extraVolumes (each component
adds its data volume). A server stages snapshots in /tmp, so it may hold one: server.tmpSize.
*/}}
{{- define "consul.pod.volumes" -}}
- name: config
  configMap:
    name: {{ include "consul.fullname" .root }}-{{ .component }}-config
- name: tmp
  {{- $s := .root.Values.server }}
  {{- $limit := "" }}
  {{- if eq .component "server" }}
  {{- $limit = $s.tmpSize | default (ternary $s.persistence.size "" $s.persistence.enabled) }}
  {{- end }}
  emptyDir: {{ if $limit }}{sizeLimit: {{ $limit }}}{{ else }}{}{{ end }}
# The agent's secrets config file: memory, never the node's disk.
- name: run
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
{{ include "consul.secrets.volume" . }}
{{- with (index .root.Values .component).extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
