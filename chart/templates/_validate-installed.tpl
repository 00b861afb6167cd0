{{/*
Checks against the installed release, made when the renderer can see the cluster: `helm
upgrade` and `helm install` look the live objects up; under `helm template` (and so under Argo CD
or Flux rendering) `lookup` sees nothing and these checks pass.
*/}}

{{/*
consul.validate.installed: every check against the installed release. volumeClaimTemplates of a
StatefulSet are immutable, so a persistence change is explained instead of the API server's
generic refusal; a scale-down must leave a quorum of the current servers running even if every
removed one stopped before it left (a StatefulSet with Parallel pod management stops them all at
once), and must not change the pod template (checksum/pod-template) too: the StatefulSet would
roll a remaining server while the removed ones stop.
*/}}
{{- define "consul.validate.installed" -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace (printf "%s-server-config" (include "consul.fullname" .)) }}
{{- $name := printf "%s-server" (include "consul.fullname" .) }}
{{- $live := lookup "apps/v1" "StatefulSet" .Release.Namespace $name }}
{{- if $cm }}
{{- $config := index $cm.data "server.json" | default "{}" | fromJson }}
{{- include "consul.validate.tlsSteps" (dict "root" . "installed" $config) }}
{{- if $live }}
{{- include "consul.validate.bootstrapOnly" (dict "root" . "installed" $config "live" $live) }}
{{- end }}
{{- end }}
{{- if $live }}
{{- $from := int $live.spec.replicas }}
{{- $to := int .Values.server.replicas }}
{{- $keep := int (include "consul.server.quorum" $from) }}
{{- if lt $to $keep }}
{{- fail (printf "server.replicas=%d would stop %d of the %d running servers at once, leaving fewer than their quorum of %d should they stop before leaving. Scale down in steps that keep a quorum: to at least %d in one upgrade (e.g. 7 -> 5 -> 3), or one server at a time with `kubectl -n %s scale statefulset/%s --replicas=N` (waiting each time until `consul operator raft list-peers` shows N voters) and then this upgrade" $to (sub $from $to) $from $keep $keep .Release.Namespace $name) }}
{{- end }}
{{- if lt $to $from }}
{{- $installed := dig "metadata" "annotations" "checksum/pod-template" "" $live }}
{{- if not $installed }}
{{- fail (printf "server.replicas=%d scales down, and the installed StatefulSet does not say which pod template it runs (an older chart made it): upgrade once with server.replicas=%d and the other changes, then scale down in an upgrade of its own (e.g. helm upgrade --reuse-values --set server.replicas=%d)" $to $from $to) }}
{{- end }}
{{- if ne $installed (include "consul.server.podTemplate" . | sha256sum) }}
{{- fail (printf "server.replicas=%d scales down in the same upgrade that changes the servers' pod template (image, resources, agent configuration...): the StatefulSet would stop the %d removed servers and start rolling the remaining ones at once, %d of %d down. Scale down in an upgrade of its own, every other value as installed (e.g. helm upgrade --reuse-values --set server.replicas=%d), then make the other change" $to (sub $from $to) (add1 (sub $from $to)) $from $to) }}
{{- end }}
{{- end }}
{{- $p := .Values.server.persistence }}
{{- $claims := $live.spec.volumeClaimTemplates | default list }}
{{- $hint := "volumeClaimTemplates of a StatefulSet cannot change. To apply it: kubectl delete statefulset --cascade=orphan, then helm upgrade (existing volumes are kept and must be resized or migrated by hand)" }}
{{- $hadVolumes := gt (len $claims) 0 }}
{{- if ne $hadVolumes $p.enabled }}
{{- fail (printf "server.persistence.enabled cannot change from %t to %t on an installed release. %s" $hadVolumes $p.enabled $hint) }}
{{- end }}
{{- if $p.enabled }}
{{- $spec := (first $claims).spec }}
{{- $stored := toString $spec.resources.requests.storage }}
{{- /* The API stores a quantity in canonical form (1.5Gi comes back as 1536Mi): compare bytes. */}}
{{- if ne (include "consul.quantityBytes" $stored) (include "consul.quantityBytes" (toString $p.size)) }}
{{- fail (printf "server.persistence.size cannot change from %s to %s on an installed release. %s" $stored $p.size $hint) }}
{{- end }}
{{- if and $p.storageClass (ne (toString $spec.storageClassName) $p.storageClass) }}
{{- fail (printf "server.persistence.storageClass cannot change from %q to %q on an installed release. %s" (toString $spec.storageClassName) $p.storageClass $hint) }}
{{- end }}
{{- if ne (toJson $spec.accessModes) (toJson $p.accessModes) }}
{{- fail (printf "server.persistence.accessModes cannot change from %s to %s on an installed release. %s" (toJson $spec.accessModes) (toJson $p.accessModes) $hint) }}
{{- end }}
{{- $annotations := dig "metadata" "annotations" dict (first $claims) }}
{{- if ne (toJson $annotations) (toJson $p.annotations) }}
{{- fail (printf "server.persistence.annotations cannot change from %s to %s on an installed release. %s" (toJson $annotations) (toJson $p.annotations) $hint) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
consul.validate.tlsSteps: TLS comes to a running release in three rolling upgrades, as Consul's
guide does it, and leaves it in the same three reversed, because servers that require TLS refuse
the plain RPC of those not rolled yet (raft included: two of three rolled would lose quorum).
Takes (dict "root" $ "installed" <the installed servers' config>).
*/}}
{{- define "consul.validate.tlsSteps" -}}
{{- $t := .root.Values.tls }}
{{- $installed := .installed }}
{{- if $t.enabled }}
{{- $steps := "turn TLS on in three upgrades, each a rolling restart: (1) tls.enabled=true tls.verifyOutgoing=false tls.verifyIncoming=false, (2) tls.verifyOutgoing=true, (3) tls.verifyIncoming=true" }}
{{- if and (not (hasKey $installed "tls")) (or $t.verifyOutgoing $t.verifyIncoming) }}
{{- fail (printf "the installed servers run without TLS: tls.verifyOutgoing and tls.verifyIncoming must be false in the first upgrade that sets tls.enabled=true, or servers not yet rolled could not reach the rolled ones. To %s" $steps) }}
{{- end }}
{{- if and (hasKey $installed "tls") (not (dig "tls" "defaults" "verify_outgoing" false $installed)) $t.verifyIncoming }}
{{- fail (printf "the installed servers still make plain RPC (verify_outgoing off): set tls.verifyOutgoing=true with tls.verifyIncoming=false first. To %s" $steps) }}
{{- end }}
{{- else if hasKey $installed "tls" }}
{{- $off := "turn TLS off in three upgrades, those that turned it on reversed, each a rolling restart: (1) tls.verifyIncoming=false, (2) tls.verifyOutgoing=false, (3) tls.enabled=false" }}
{{- $out := dig "tls" "defaults" "verify_outgoing" false $installed }}
{{- $in := dig "tls" "internal_rpc" "verify_incoming" false $installed }}
{{- if or $out $in }}
{{- fail (printf "the installed servers still verify TLS (verify_outgoing %t, verify_incoming %t): tls.enabled=false now would leave the servers not yet rolled refusing the plain RPC of the rolled ones. To %s" $out $in $off) }}
{{- end }}
{{- end }}
{{- if and $t.enabled (dig "tls" "internal_rpc" "verify_incoming" false $installed) (not $t.verifyOutgoing) }}
{{- fail "the installed servers require TLS of every incoming RPC (verify_incoming on): set tls.verifyIncoming=false first, and tls.verifyOutgoing=false in the next upgrade" }}
{{- end }}
{{- end }}

{{/*
consul.validate.bootstrapOnly: settings the servers took when the cluster first formed, refused
on an upgrade with the way to get them; takes (dict "root" $ "installed" <the installed servers'
config> "live" <the installed StatefulSet>).
*/}}
{{- define "consul.validate.bootstrapOnly" -}}
{{- $v := .root.Values }}
{{- $installed := .installed }}
{{- $move := "install a new release with the new setting and copy the data over (consul kv export on the old servers, consul kv import on the new)" }}
{{- $dc := $installed.datacenter | default $v.consul.datacenter }}
{{- if ne $dc $v.consul.datacenter }}
{{- fail (printf "consul.datacenter cannot change from %q to %q on an installed release: the servers' raft data and every agent's catalog entries belong to %q, and agents of two datacenters do not join. Keep %q, or %s" $dc $v.consul.datacenter $dc $dc $move) }}
{{- end }}
{{- $acl := dig "acl" "enabled" false $installed }}
{{- if ne $acl $v.acl.enabled }}
{{- fail (printf "acl.enabled cannot change from %t to %t on an installed release: servers rolled one at a time would run with and without ACLs side by side, and under the deny default every agent and client without a token is cut off midway. Keep acl.enabled=%t, or %s" $acl $v.acl.enabled $acl $move) }}
{{- end }}
{{- /* The agent command reads the gossip key file only when encryption is on (consul.pod.agentCommand). */}}
{{- $gossip := contains "/consul/secrets/gossip-key" (toJson .live.spec.template.spec.containers) }}
{{- if ne $gossip $v.gossipEncryption.enabled }}
{{- fail (printf "gossipEncryption.enabled cannot change from %t to %t on an installed release: agents keep their keyring on disk and would not follow, so some members would gossip encrypted and the others not, and the cluster would split. Keep gossipEncryption.enabled=%t, or %s" $gossip $v.gossipEncryption.enabled $gossip $move) }}
{{- end }}
{{- end }}
