{{/*
consul.validate: refuses combinations of values that the schema cannot express, each with a
message that says what to change; renders nothing. Called once, at the top of
server-statefulset.yaml (the one object every configuration renders).
*/}}
{{- define "consul.validate" -}}
{{- $s := .Values.server }}
{{- $n := int $s.replicas }}
{{- if eq (mod $n 2) 0 }}
{{- fail (printf "server.replicas=%d: an even number of servers tolerates no more failures than %d (quorum is %d of %d) and can split the vote; use 1, 3, 5 or 7" $n (sub $n 1) (include "consul.server.quorum" $n | int) $n) }}
{{- end }}
{{- if gt (int $s.updatePartition) $n }}
{{- fail (printf "server.updatePartition=%d is above server.replicas=%d: no server would ever be updated; use 0..%d" (int $s.updatePartition) $n $n) }}
{{- end }}
{{- if and $s.disruptionBudget.enabled (gt $n 1) }}
{{- $max := sub $n (include "consul.server.quorum" $n) }}
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
{{- $t := .Values.tls }}
{{- if and $t.httpsOnly (not $t.enabled) }}
{{- fail "tls.httpsOnly=true needs tls.enabled=true: without TLS there is no HTTPS to keep" }}
{{- end }}
{{- if and $t.enabled $t.verifyIncoming (not $t.verifyOutgoing) }}
{{- fail "tls.verifyIncoming=true needs tls.verifyOutgoing=true: servers that require TLS would refuse the plain RPC of every agent, themselves included" }}
{{- end }}
{{- if and $t.enabled $t.server.existingSecret (not $t.ca.existingSecret) }}
{{- fail "tls.server.existingSecret is set but tls.ca.existingSecret is empty: name the Secret holding the CA certificate (tls.crt) that signed it, which every agent must trust" }}
{{- end }}
{{- if and $t.enabled (ge (int $t.server.renewBeforeDays) (int $t.server.days)) }}
{{- fail (printf "tls.server.renewBeforeDays=%d is not below tls.server.days=%d: every upgrade would reissue the server certificate" (int $t.server.renewBeforeDays) (int $t.server.days)) }}
{{- end }}
{{- if and $t.enabled (not (kindIs "invalid" .Values.ui.service.httpsNodePort)) (eq .Values.ui.service.type "ClusterIP") }}
{{- fail "ui.service.httpsNodePort is set but ui.service.type is ClusterIP: set ui.service.type to NodePort or LoadBalancer, or remove the httpsNodePort" }}
{{- end }}
{{- include "consul.validate.installed" . }}
{{- end }}

{{/*
consul.quantityBytes: a quantity string as values.schema.json admits it (10Gi, 1.5Gi, 1536Mi,
500M, 1e9) as a whole number of bytes, so two spellings of one size compare equal.
*/}}
{{- define "consul.quantityBytes" -}}
{{- $q := trimPrefix "+" . }}
{{- $number := regexFind "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" $q }}
{{- $suffix := trimPrefix $number $q }}
{{- $factors := dict "" 1.0 "n" 1e-9 "u" 1e-6 "m" 1e-3 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- $bytes := float64 $number }}
{{- if hasKey $factors $suffix }}
{{- $bytes = mulf $bytes (get $factors $suffix) }}
{{- else if regexMatch "^[eE][-+]?[0-9]+$" $suffix }}
{{- $exp := int (trimPrefix "+" (substr 1 -1 $suffix)) }}
{{- range until (ternary $exp (sub 0 $exp) (gt $exp 0) | int) }}
{{- $bytes = ternary (mulf $bytes 10) (divf $bytes 10) (gt $exp 0) }}
{{- end }}
{{- else }}
{{- fail (printf "cannot read the Kubernetes quantity %q" .) }}
{{- end }}
{{- ceil $bytes | int64 }}
{{- end }}
