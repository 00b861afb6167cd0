{{/* Helpers of the server StatefulSet only. Each takes the chart root ($) unless it says so. */}}

{{/* consul.server.quorum: the raft quorum of a server count; takes the count (an int). */}}
{{- define "consul.server.quorum" -}}
{{- add (div (int .) 2) 1 }}
{{- end }}

{{/*
consul.server.configChecksum: the checksum that rolls the servers when their configuration
changes. bootstrap_expect and the autopilot seed are left out: Consul reads them only when the
cluster first bootstraps, and they follow server.replicas, so with them in every scale would
restart every server that stays (the autopilot hook Job applies autopilot to a running cluster).
*/}}
{{- define "consul.server.configChecksum" -}}
{{- omit (include "consul.config.server" . | fromJson) "bootstrap_expect" "autopilot" | toJson | sha256sum }}
{{- end }}

{{/* consul.server.affinity: the user's `server.affinity`, else the anti-affinity preset. */}}
{{- define "consul.server.affinity" -}}
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

{{/* consul.server.topologySpreadConstraints: the user's, selecting the servers unless they gave a labelSelector. */}}
{{- define "consul.server.topologySpreadConstraints" -}}
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

{{/*
consul.server.curl: a curl command, bounded to 3 s, for one path of the local agent's API, with
the CA and the management token when TLS and ACLs are on (from consul.pod.cliEnv); takes
(dict "root" $ "path" "/v1/...").
*/}}
{{- define "consul.server.curl" -}}
curl -sf --max-time 3
{{- if .root.Values.tls.enabled }} --cacert "$CONSUL_CACERT"{{ end }}
{{- if .root.Values.acl.enabled }} -H "X-Consul-Token: $(cat "$CONSUL_HTTP_TOKEN_FILE")"{{ end }} "$CONSUL_HTTP_ADDR{{ .path }}"
{{- end }}

{{/*
consul.server.probes: startup, liveness and readiness of the server container. Every command
is bounded below its probe's timeout, so no probe process outlives the probe. Startup and
liveness read /v1/status/leader, which needs no token, over HTTPS when plain HTTP is off.
*/}}
{{- define "consul.server.probes" -}}
{{- $get := include "consul.pod.httpGet" (dict "root" . "path" "/v1/status/leader") }}
# The HTTP API must answer before liveness starts; raft log replay can take a while.
startupProbe:
  httpGet: {{ $get }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 60
# /v1/status/leader answers 200 with or without a leader, so liveness restarts only an agent
# that stopped serving, never a healthy server during an election.
livenessProbe:
  httpGet: {{ $get }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
# Ready while the server's own raft state lists it as a voter and it heard from a leader in the
# last 10 s (or leads): autopilot re-adds a returning server as a non-voter until it is stable,
# and a rolling update must not stop the next server before then. Judged locally, from
# /v1/agent/self, not by asking the leader: an election or a slow leader then leaves every
# server ready rather than emptying the -ui Service at once, while a server cut off from the
# leader for longer turns unready. (The answer is captured first: in a pipe, a failed curl would
# leave only jq's status, and jq 1.6 exits 0 on empty input.)
readinessProbe:
  exec:
    command:
      - /bin/sh
      - -ec
      - >-
        self=$({{ include "consul.server.curl" (dict "root" . "path" "/v1/agent/self") }});
        printf '%s' "$self" | jq -e '.Config.NodeID as $id | .Stats.raft
        | (.latest_configuration | contains("{Suffrage:Voter ID:\($id) "))
        and (.last_contact | . == "0" or test("^[0-9.]+(ns|us|µs|ms)$")
        or (test("^[0-9.]+s$") and (rtrimstr("s") | tonumber) < 10))' >/dev/null
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 2
{{- end }}

{{/*
consul.server.preStop: a stopping leader hands leadership over, so a rolling restart costs no
election timeout. The leader is found by node name (the pod's hostname), which works on IPv4
and IPv6 alike. The target is the lowest-ordinal other voter: a scale-down removes the highest
ordinals, so leadership never moves to a server that is stopping too.
Then every server leaves through the API, not on SIGTERM: during a leave on a signal the agent
counts any further signal as a second one and exits at once (command/agent/agent.go), and a
write to a socket a peer closed raises SIGPIPE, which it listens for (consul PR 13067, never
merged). Measured on kind: 5 of 8 graceful leaves cut short 5-12 s after SIGTERM, before the
5 s drain (leave_drain_time) in which a leaving server turns forwarded RPCs away as "No cluster
leader" for the client to retry elsewhere; a client write in flight then failed with "EOF",
applied or not. leave_on_terminate stays on for a server whose preStop could not leave.
*/}}
{{- define "consul.server.preStop" -}}
exec:
  command:
    - /bin/sh
    - -c
    - |
      if cfg=$({{ include "consul.server.curl" (dict "root" . "path" "/v1/operator/raft/configuration") }}) &&
        [ "$(printf '%s' "$cfg" | jq -r '.Servers[] | select(.Leader) | .Node')" = "$HOSTNAME" ]; then
        target=$(printf '%s' "$cfg" | jq -r --arg me "$HOSTNAME" '[.Servers[] | select(.Voter and .Node != $me)]
          | sort_by(.Node | capture("(?<n>[0-9]+)$").n | tonumber) | first | .ID // empty')
        [ -z "$target" ] || timeout 10 consul operator raft transfer-leader -id="$target" || true
      fi
      exec consul leave
{{- end }}

{{/*
consul.server.autopilotScript: applies the servers' autopilot settings to the running cluster
once it has a leader (the autopilot hook after every install and upgrade; the restore Job, since
a restore rolls them back to the snapshot's).
*/}}
{{- define "consul.server.autopilotScript" -}}
{{- $autopilot := (include "consul.config.server" . | fromJson).autopilot }}
{{- $flags := dict "cleanup_dead_servers" "cleanup-dead-servers" "min_quorum" "min-quorum" "max_trailing_logs" "max-trailing-logs" "last_contact_threshold" "last-contact-threshold" "server_stabilization_time" "server-stabilization-time" -}}
until timeout 10 consul operator autopilot set-config
{{- range $key, $flag := $flags }}
{{- if hasKey $autopilot $key }} -{{ $flag }}={{ index $autopilot $key }}{{ end }}
{{- end }}; do
  echo "no leader to take the autopilot settings yet; retrying in 5s"
  sleep 5
done
timeout 10 consul operator autopilot get-config
{{- end }}
