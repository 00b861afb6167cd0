{{/* Agent configuration, built as dicts and rendered as JSON into the ConfigMaps. Each takes the chart root ($). */}}

{{/*
consul.config.common: the configuration servers and clients share, as JSON.
retry_interval is 1s, not Consul's 30s (nor the 10s this chart had): at install every agent
starts before the headless Service lists any server, so its first join finds nobody, and the
cluster waited one whole interval to form. `make bench` measured install → healthy at 16.9 s
with 10s against 7.8 s for the same pods running `sleep`. A failed attempt costs one DNS lookup.
*/}}
{{- define "consul.config.common" -}}
{{- $c := .Values.consul }}
{{- $cfg := dict
  "datacenter" $c.datacenter
  "domain" $c.domain
  "data_dir" "/consul/data"
  "log_level" $c.logLevel
  "log_json" $c.logJson
  "client_addr" "0.0.0.0"
  "bind_addr" "0.0.0.0"
  "retry_join" (list (include "consul.joinAddress" .))
  "retry_interval" "1s"
  "rejoin_after_leave" true
  "disable_update_check" true
  "ports" (dict "http" 8500 "dns" 8600 "serf_lan" 8301)
}}
{{- with $c.recursors }}
{{- $_ := set $cfg "recursors" . }}
{{- end }}
{{- if .Values.metrics.enabled }}
{{- $_ := set $cfg "telemetry" (dict "prometheus_retention_time" .Values.metrics.retentionTime "disable_hostname" true) }}
{{- end }}
{{- toJson (mustMergeOverwrite $cfg (include "consul.acl.config" . | fromJson)) }}
{{- end }}

{{/*
consul.config.server: the servers' configuration, as indented JSON.
Servers leave the cluster when they terminate, with or without persistence. A restarted pod
comes back on a new IP: one that did not leave stays a raft voter under its old address until
the leader learns the new one, and if another server stops in that window the survivors count
an unreachable voter and lose quorum (measured on kind: a 50 s leaderless window in a rolling
upgrade; with leave, never fewer than two of three servers ready). What persistence changes is
the return: on a volume the server rejoins with its node ID and raft data (rejoin_after_leave),
on emptyDir it joins as a new node and replicates everything again. A server that crashes
without leaving stays a dead voter until autopilot's cleanup_dead_servers removes it, never
below min_quorum.
*/}}
{{- define "consul.config.server" -}}
{{- $s := .Values.server }}
{{- $cfg := include "consul.config.common" . | fromJson }}
{{- $_ := set $cfg "server" true }}
{{- $_ := set $cfg "bootstrap_expect" (int $s.replicas) }}
{{- $_ := set $cfg "leave_on_terminate" true }}
{{- $_ := set $cfg "skip_leave_on_interrupt" true }}
{{- $_ := set $cfg "ui_config" (dict "enabled" .Values.ui.enabled) }}
{{- $_ := set $cfg "performance" (dict "raft_multiplier" 1) }}
{{- $_ := set $cfg "autopilot" (dict "cleanup_dead_servers" true "min_quorum" (int (include "consul.server.quorum" $s.replicas))) }}
{{- $cfg = mustMergeOverwrite $cfg (include "consul.tls.config" (dict "root" . "component" "server") | fromJson) }}
{{- mustMergeOverwrite $cfg (deepCopy $s.extraConfig) | toPrettyJson }}
{{- end }}

{{/*
consul.config.client: the clients' configuration, as indented JSON. Clients always leave on
terminate, so the next pod on the node can take the node name (with a data dir on the node it
comes back with the same node ID, restores its registrations and re-syncs them).
*/}}
{{- define "consul.config.client" -}}
{{- $cfg := include "consul.config.common" . | fromJson }}
{{- $_ := set $cfg "server" false }}
{{- $_ := set $cfg "leave_on_terminate" true }}
{{- $_ := set $cfg "ui_config" (dict "enabled" false) }}
{{- $cfg = mustMergeOverwrite $cfg (include "consul.tls.config" (dict "root" . "component" "client") | fromJson) }}
{{- mustMergeOverwrite $cfg (deepCopy .Values.client.extraConfig) | toPrettyJson }}
{{- end }}
