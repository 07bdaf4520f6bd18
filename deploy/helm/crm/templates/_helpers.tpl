{{/* Names, labels and the pod parts every CRM process shares. */}}

{{- define "crm.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "crm.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "crm.labels" -}}
{{ include "crm.selector" . }}
app.kubernetes.io/part-of: crm
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
crm/service: {{ .service }}
{{- end -}}

{{- define "crm.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{ $img.repository }}@{{ $img.digest }}
{{- else -}}
{{ $img.repository }}:{{ $img.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* Environment of one process of service .service: endpoints from values, credentials from the Secret. */}}
{{- define "crm.env" -}}
{{- $v := .root.Values -}}
{{- $svc := .service -}}
{{- $cfg := index $v.services $svc -}}
{{- $up := upper $svc -}}
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
- name: HOME
  value: /tmp
- name: CRM_{{ $up }}_HOST
  value: 0.0.0.0
- name: CRM_{{ $up }}_PORT
  value: {{ $cfg.port | quote }}
- name: CRM_{{ $up }}_METRICS_HOST
  value: 0.0.0.0
- name: CRM_{{ $up }}_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: CRM_KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required" $v.kafka.bootstrapServers | quote }}
- name: CRM_KAFKA_TOPIC_PREFIX
  value: {{ $v.kafka.topicPrefix | quote }}
- name: CRM_KAFKA_REPLICATION_FACTOR
  value: {{ $v.kafka.replicationFactor | quote }}
- name: CRM_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "existingSecret is required: the chart never renders secrets" $v.existingSecret }}
      key: {{ $v.secretKeys.jwtSecret }}
{{- if $cfg.store }}
- name: CRM_{{ $up }}_STORE__BACKEND
  value: postgres
- name: CRM_{{ $up }}_STORE__POSTGRES_HOST
  value: {{ $cfg.postgresHost | default $v.postgres.host | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_PORT
  value: {{ $cfg.postgresPort | default $v.postgres.port | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_DB
  value: {{ $cfg.postgresDatabase | default (printf "crm_%s" $svc) | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_USER
  value: {{ $cfg.postgresUser | default (printf "crm_%s" $svc) | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ printf "%s-postgres-password" $svc }}
{{- end }}
{{- if $cfg.mongo }}
- name: CRM_MONGO_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.secretKeys.mongoUrl }}
{{- end }}
{{- range $name, $key := $cfg.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every workload. */}}
{{- define "crm.podSpec" -}}
automountServiceAccountToken: false
serviceAccountName: {{ include "crm.fullname" .root }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end -}}

{{- define "crm.podAnnotations" -}}
{{- if .root.Values.prometheus.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* Container parts shared by every process. */}}
{{- define "crm.containerCommon" -}}
image: {{ include "crm.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}
