{{/* Agent configuration, built as dicts and rendered as JSON into the ConfigMaps. */}}

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
  "retry_interval" "10s"
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
{{- toJson $cfg }}
{{- end }}

{{/*
Servers. leave_on_terminate depends on persistence:
- on a volume a restarted server comes back with its node ID and raft data and simply resumes
  as the same voter, so it must not leave: a leave would shrink the peer set on every rolling
  restart and a later failure in that window would cost quorum;
- on emptyDir it comes back as a new node with a new ID, so it must leave, or its old ID stays
  a raft voter that counts against quorum until autopilot prunes it.
autopilot's min_quorum stops dead-server cleanup from ever pruning below quorum.
*/}}
{{- define "consul.config.server" -}}
{{- $s := .Values.server }}
{{- $cfg := include "consul.config.common" . | fromJson }}
{{- $_ := set $cfg "server" true }}
{{- $_ := set $cfg "bootstrap_expect" (int $s.replicas) }}
{{- $_ := set $cfg "leave_on_terminate" (not $s.persistence.enabled) }}
{{- $_ := set $cfg "skip_leave_on_interrupt" true }}
{{- $_ := set $cfg "ui_config" (dict "enabled" .Values.ui.enabled) }}
{{- $_ := set $cfg "performance" (dict "raft_multiplier" 1) }}
{{- $_ := set $cfg "autopilot" (dict "cleanup_dead_servers" true "min_quorum" (int (include "consul.quorum" .))) }}
{{- mustMergeOverwrite $cfg (deepCopy $s.extraConfig) | toPrettyJson }}
{{- end }}

{{/* Clients always leave on terminate, so the next pod on the node can take the node name. */}}
{{- define "consul.config.client" -}}
{{- $cfg := include "consul.config.common" . | fromJson }}
{{- $_ := set $cfg "server" false }}
{{- $_ := set $cfg "leave_on_terminate" true }}
{{- $_ := set $cfg "ui_config" (dict "enabled" false) }}
{{- mustMergeOverwrite $cfg (deepCopy .Values.client.extraConfig) | toPrettyJson }}
{{- end }}
