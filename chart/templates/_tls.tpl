{{/* Helpers of TLS (tls.*). Each takes the chart root ($) unless it says so. */}}

{{/*
consul.tls.serverNames: the names the server certificate carries besides those `consul tls cert
create -server` adds (server.<datacenter>.<domain>, localhost, 127.0.0.1), comma-separated and
in a fixed order, so that the secrets-init Job can tell when they changed: the servers' and the
UI's Services in every form a pod uses, each server pod's own name under the headless Service,
::1, and tls.server.extraSANs.
*/}}
{{- define "consul.tls.serverNames" -}}
{{- $ns := .Release.Namespace }}
{{- $domain := default "cluster.local" .Values.clusterDomain }}
{{- $names := list }}
{{- range $svc := list (printf "%s-server" (include "consul.fullname" .)) (printf "%s-ui" (include "consul.fullname" .)) }}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns $domain)) }}
{{- end }}
{{- $headless := printf "%s-server.%s.svc" (include "consul.fullname" .) $ns }}
{{- $names = concat $names (list (printf "*.%s" $headless) (printf "*.%s.%s" $headless $domain) "::1") .Values.tls.server.extraSANs }}
{{- join "," $names }}
{{- end }}

{{/*
consul.tls.config: the tls, auto_encrypt and ports settings of the agent configuration, as JSON;
takes (dict "root" $ "component" "server"|"client"). verify_incoming applies to internal RPC
only: on HTTPS it would refuse probes, the UI and every tool without a client certificate.
tls.verifyOutgoing and tls.verifyIncoming are off only while TLS is turned on in a running
release (consul.validate.tlsSteps).
Clients get their certificate from the servers (auto-encrypt), so the CA's key stays with the
secrets-init Job and the servers' certificate with the servers.
*/}}
{{- define "consul.tls.config" -}}
{{- $t := .root.Values.tls }}
{{- $cfg := dict }}
{{- if $t.enabled }}
{{- $defaults := dict "ca_file" "/consul/secrets/ca.crt" "verify_outgoing" $t.verifyOutgoing }}
{{- $rpc := dict "verify_server_hostname" $t.verifyOutgoing }}
{{- $ports := dict "https" 8501 }}
{{- if $t.httpsOnly }}
{{- $_ := set $ports "http" -1 }}
{{- end }}
{{- if eq .component "server" }}
{{- $_ := set $defaults "cert_file" "/consul/secrets/server.crt" }}
{{- $_ := set $defaults "key_file" "/consul/secrets/server.key" }}
{{- $_ := set $rpc "verify_incoming" $t.verifyIncoming }}
{{- $_ := set $cfg "auto_encrypt" (dict "allow_tls" true) }}
{{- /* A reissued server certificate is read from the projected Secret without a restart. */}}
{{- $_ := set $cfg "auto_reload_config" true }}
{{- else }}
{{- $_ := set $cfg "auto_encrypt" (dict "tls" true) }}
{{- end }}
{{- $_ := set $cfg "tls" (dict "defaults" $defaults "internal_rpc" $rpc) }}
{{- $_ := set $cfg "ports" $ports }}
{{- end }}
{{- toJson $cfg }}
{{- end }}

{{/* consul.tls.httpPort: the name of the port local tools and probes use: https with TLS on, else http. */}}
{{- define "consul.tls.httpPort" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{/* consul.serverURL: the servers' API through their headless Service, HTTPS with TLS on (the name is in the server certificate). */}}
{{- define "consul.serverURL" -}}
{{- if .Values.tls.enabled }}https://{{ include "consul.joinAddress" . }}:8501{{ else }}http://{{ include "consul.joinAddress" . }}:8500{{ end }}
{{- end }}
