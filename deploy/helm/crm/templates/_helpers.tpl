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
  value: {{ include "crm.kafkaBootstrap" .root | quote }}
- name: CRM_KAFKA_TOPIC_PREFIX
  value: {{ $v.kafka.topicPrefix | quote }}
- name: CRM_KAFKA_REPLICATION_FACTOR
  value: {{ $v.kafka.replicationFactor | quote }}
{{- include "crm.kafkaSecurityEnv" . }}
- name: CRM_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "existingSecret is required: the chart never renders secrets" $v.existingSecret }}
      key: {{ $v.secretKeys.jwtSecret }}
{{- if $cfg.store }}
- name: CRM_KEYS_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.secretKeys.keysMasterKey }}
{{- if $v.secretKeys.keysPreviousMasterKeys }}
- name: CRM_KEYS_PREVIOUS_MASTER_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.secretKeys.keysPreviousMasterKeys }}
{{- end }}
- name: CRM_{{ $up }}_STORE__BACKEND
  value: postgres
{{- if $v.cnpg.enabled }}
{{- $cluster := include "crm.pgCluster" (dict "root" .root "service" $svc) }}
- name: CRM_{{ $up }}_STORE__POSTGRES_HOST
  value: {{ printf "%s-rw" $cluster | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_PORT
  value: "5432"
- name: CRM_{{ $up }}_STORE__POSTGRES_DB
  value: {{ printf "crm_%s" $svc | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_USER
  value: {{ printf "crm_%s" $svc | quote }}
- name: CRM_{{ $up }}_STORE__POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ printf "%s-app" $cluster }}
      key: password
{{- else }}
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
{{- end }}
{{- if $cfg.mongo }}
- name: CRM_MONGO_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.secretKeys.mongoUrl }}
{{- end }}
{{- with $cfg.smtp }}
- name: CRM_{{ $up }}_SMTP_HOST
  value: {{ .host | quote }}
- name: CRM_{{ $up }}_SMTP_PORT
  value: {{ .port | quote }}
{{- end }}
{{- if and $cfg.sms $cfg.sms.gatewayUrl }}
- name: CRM_{{ $up }}_SMS_GATEWAY_URL
  value: {{ $cfg.sms.gatewayUrl | quote }}
{{- end }}
{{- range $callee := ($cfg.calls | default list) }}
- name: {{ printf "CRM_%s_%s_URL" $up (upper $callee) }}
  value: {{ printf "http://%s-%s" (include "crm.fullname" $.root) $callee | quote }}
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
  {{- with (include "crm.kafkaCaSecret" .root) }}
  - name: kafka-ca
    secret:
      secretName: {{ . }}
      items:
        - key: {{ include "crm.kafkaCaKey" $.root }}
          path: ca.crt
  {{- end }}
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
  {{- if include "crm.kafkaCaSecret" .root }}
  - name: kafka-ca
    mountPath: /etc/crm/kafka-ca
    readOnly: true
  {{- end }}
{{- end -}}

{{/* Kafka: the Strimzi cluster of this release when strimzi.enabled, else the external one (kafka.*). */}}
{{- define "crm.kafkaCluster" -}}
{{- .Values.strimzi.clusterName | default (printf "%s-kafka" (include "crm.fullname" .)) -}}
{{- end -}}

{{- define "crm.kafkaBootstrap" -}}
{{- if .Values.strimzi.enabled -}}
{{ include "crm.kafkaCluster" . }}-kafka-bootstrap.{{ .Release.Namespace }}.svc:9093
{{- else -}}
{{ required "kafka.bootstrapServers is required" .Values.kafka.bootstrapServers }}
{{- end -}}
{{- end -}}

{{/* The Secret holding the CA that signed the brokers' certificates (empty: none mounted, system CAs). */}}
{{- define "crm.kafkaCaSecret" -}}
{{- if .Values.strimzi.enabled -}}
{{ include "crm.kafkaCluster" . }}-cluster-ca-cert
{{- else if has .Values.kafka.security.protocol (list "SSL" "SASL_SSL") -}}
{{ .Values.kafka.security.caSecret }}
{{- end -}}
{{- end -}}

{{- define "crm.kafkaCaKey" -}}
{{- if .Values.strimzi.enabled -}}ca.crt{{- else -}}{{ .Values.kafka.security.caKey }}{{- end -}}
{{- end -}}

{{/* The SASL user of service .service: its KafkaUser under Strimzi, else kafka.security.usernames or the prefix. */}}
{{- define "crm.kafkaUser" -}}
{{- if .root.Values.strimzi.enabled -}}
{{ include "crm.kafkaCluster" .root }}-{{ .service }}
{{- else -}}
{{ index .root.Values.kafka.security.usernames .service | default (printf "%s%s" .root.Values.kafka.security.usernamePrefix .service) }}
{{- end -}}
{{- end -}}

{{/* CRM_KAFKA_* security settings (shared/platform/kafka.py KafkaSettings); nothing for PLAINTEXT. */}}
{{- define "crm.kafkaSecurityEnv" -}}
{{- $v := .root.Values -}}
{{- $sec := $v.kafka.security -}}
{{- $protocol := ternary "SASL_SSL" $sec.protocol $v.strimzi.enabled -}}
{{- if not (has $protocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) -}}
{{- fail (printf "kafka.security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not %q" $protocol) -}}
{{- end -}}
{{- if ne $protocol "PLAINTEXT" }}
- name: CRM_KAFKA_SECURITY_PROTOCOL
  value: {{ $protocol | quote }}
{{- end }}
{{- if has $protocol (list "SASL_SSL" "SASL_PLAINTEXT") }}
- name: CRM_KAFKA_SASL_MECHANISM
  value: {{ ternary "SCRAM-SHA-512" $sec.saslMechanism $v.strimzi.enabled | quote }}
- name: CRM_KAFKA_SASL_USERNAME
  value: {{ include "crm.kafkaUser" . | quote }}
- name: CRM_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $v.strimzi.enabled }}
      name: {{ include "crm.kafkaUser" . }}
      key: password
      {{- else }}
      name: {{ $sec.existingSecret | default $v.existingSecret }}
      key: {{ printf "%s%s" .service $sec.passwordKeySuffix }}
      {{- end }}
{{- end }}
{{- if include "crm.kafkaCaSecret" .root }}
- name: CRM_KAFKA_SSL_CAFILE
  value: /etc/crm/kafka-ca/ca.crt
{{- end }}
{{- end -}}

{{/* The CloudNativePG Cluster (and thus Services/Secrets "<name>-rw", "<name>-app") of service .service. */}}
{{- define "crm.pgCluster" -}}
{{- printf "%s-%s-pg" (include "crm.fullname" .root) .service -}}
{{- end -}}

{{- define "crm.mongoName" -}}
{{- printf "%s-mongodb" (include "crm.fullname" .) -}}
{{- end -}}

{{/* Every CRM process of the release (pods with a crm/role), as a NetworkPolicy pod selector. */}}
{{- define "crm.processSelector" -}}
matchLabels:
  app.kubernetes.io/instance: {{ .Release.Name }}
  app.kubernetes.io/name: {{ .Chart.Name }}
matchExpressions:
  - {key: crm/role, operator: Exists}
{{- end -}}
