{{/*
consul.aclInit.jobSpec: the spec of the ACL sync Job (acl-init-job.yaml). The Job is named by a
hash of it: a Job's pod template cannot change, so each new spec gets a Job of its own, while an
unchanged one (a chart bump, another value) keeps the finished Job and runs nothing again, under
`helm template` as under helm.
*/}}
{{- define "consul.aclInit.jobSpec" -}}
{{- $ctx := dict "root" . "component" "acl-init" -}}
backoffLimit: 6
activeDeadlineSeconds: 1800
template:
  metadata:
    labels:
      {{- include "consul.componentSelectorLabels" $ctx | nindent 6 }}
  spec:
    restartPolicy: OnFailure
    automountServiceAccountToken: false
    securityContext:
      {{- toYaml $.Values.podSecurityContext | nindent 6 }}
    {{- with $.Values.imagePullSecrets }}
    imagePullSecrets:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- include "consul.jobs.scheduling" $.Values.jobs | nindent 4 }}
    containers:
      - name: acl-init
        image: {{ include "consul.image" . }}
        imagePullPolicy: {{ $.Values.image.pullPolicy }}
        env:
          # Any server forwards writes to the leader.
          {{- include "consul.pod.cliEnv" (dict "root" . "component" "acl-init" "url" (include "consul.serverURL" .)) | nindent 10 }}
        command:
          - /bin/sh
          - -ec
          - |
            {{- include "consul.acl.syncScript" . | nindent 12 }}
        {{- include "consul.jobs.resources" . | nindent 8 }}
        securityContext:
          {{- toYaml $.Values.containerSecurityContext | nindent 10 }}
        volumeMounts:
          - {name: tmp, mountPath: /tmp}
          - {name: secrets, mountPath: /consul/secrets, readOnly: true}
    volumes:
      - name: tmp
        emptyDir: {}
      {{- include "consul.secrets.volume" $ctx | nindent 6 }}
{{- end }}
