{{/*
Refuses combinations of values that the schema cannot express, each with a message that says
what to change. Included once, from the server StatefulSet.
*/}}
{{- define "consul.validate" -}}
{{- $s := .Values.server }}
{{- $n := int $s.replicas }}
{{- if eq (mod $n 2) 0 }}
{{- fail (printf "server.replicas=%d: an even number of servers tolerates no more failures than %d (quorum is %d of %d) and can split the vote; use 1, 3, 5 or 7" $n (sub $n 1) (add (div $n 2) 1) $n) }}
{{- end }}
{{- if gt (int $s.updatePartition) $n }}
{{- fail (printf "server.updatePartition=%d is above server.replicas=%d: no server would ever be updated; use 0..%d" (int $s.updatePartition) $n $n) }}
{{- end }}
{{- if and $s.disruptionBudget.enabled (gt $n 1) }}
{{- $max := div (sub $n 1) 2 }}
{{- $mu := int $s.disruptionBudget.maxUnavailable }}
{{- if gt $mu $max }}
{{- fail (printf "server.disruptionBudget.maxUnavailable=%d would let a drain take down more servers than quorum allows with %d servers; use 1..%d" $mu $n $max) }}
{{- end }}
{{- if eq $mu 0 }}
{{- fail "server.disruptionBudget.maxUnavailable=0 blocks every node drain forever; use 1, or set server.disruptionBudget.enabled=false" }}
{{- end }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.serviceMonitor.enabled=true needs metrics.enabled=true: without it the agents serve no Prometheus metrics" }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.ui.service.nodePort)) (eq .Values.ui.service.type "ClusterIP") }}
{{- fail "ui.service.nodePort is set but ui.service.type is ClusterIP: set ui.service.type to NodePort or LoadBalancer, or remove the nodePort" }}
{{- end }}
{{- if and .Values.ui.ingress.enabled (not .Values.ui.ingress.hosts) }}
{{- fail "ui.ingress.enabled=true needs at least one entry in ui.ingress.hosts" }}
{{- end }}
{{- include "consul.validatePersistence" . }}
{{- end }}

{{/*
volumeClaimTemplates of a StatefulSet are immutable: compare with the installed one (when the
renderer can see the cluster) and explain, instead of the API server's generic refusal.
*/}}
{{- define "consul.validatePersistence" -}}
{{- $live := lookup "apps/v1" "StatefulSet" .Release.Namespace (printf "%s-server" (include "consul.fullname" .)) }}
{{- if $live }}
{{- $p := .Values.server.persistence }}
{{- $claims := $live.spec.volumeClaimTemplates | default list }}
{{- $hint := "volumeClaimTemplates of a StatefulSet cannot change. To apply it: kubectl delete statefulset --cascade=orphan, then helm upgrade (existing volumes are kept and must be resized or migrated by hand)" }}
{{- $hadVolumes := gt (len $claims) 0 }}
{{- if ne $hadVolumes $p.enabled }}
{{- fail (printf "server.persistence.enabled cannot change from %t to %t on an installed release. %s" $hadVolumes $p.enabled $hint) }}
{{- end }}
{{- if $p.enabled }}
{{- $spec := (first $claims).spec }}
{{- if ne (toString $spec.resources.requests.storage) (toString $p.size) }}
{{- fail (printf "server.persistence.size cannot change from %s to %s on an installed release. %s" $spec.resources.requests.storage $p.size $hint) }}
{{- end }}
{{- if and $p.storageClass (ne (toString $spec.storageClassName) $p.storageClass) }}
{{- fail (printf "server.persistence.storageClass cannot change from %q to %q on an installed release. %s" (toString $spec.storageClassName) $p.storageClass $hint) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
