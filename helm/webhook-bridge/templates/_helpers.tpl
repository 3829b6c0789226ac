{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "webhook-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release + chart unless the release name already contains the chart name. */}}
{{- define "webhook-bridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "webhook-bridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "webhook-bridge.labels" -}}
helm.sh/chart: {{ include "webhook-bridge.chart" . }}
{{ include "webhook-bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels: stable for the life of the release. */}}
{{- define "webhook-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webhook-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "webhook-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "webhook-bridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "webhook-bridge.configMapName" -}}
{{- if .Values.config.existingConfigMap }}
{{- .Values.config.existingConfigMap }}
{{- else }}
{{- printf "%s-config" (include "webhook-bridge.fullname" .) }}
{{- end }}
{{- end }}

{{- define "webhook-bridge.connectorsConfigMapName" -}}
{{- if .Values.config.existingConnectorsConfigMap }}
{{- .Values.config.existingConnectorsConfigMap }}
{{- else }}
{{- printf "%s-connectors" (include "webhook-bridge.fullname" .) }}
{{- end }}
{{- end }}

{{/* bridge.yaml: config.bridge plus the settings the chart owns (paths, ports, drain). */}}
{{- define "webhook-bridge.bridgeYaml" -}}
{{- $cfg := deepCopy (default dict .Values.config.bridge) }}
{{- $_ := set $cfg "connectors" "/etc/webhook-bridge/connectors/" }}
{{- $admin := default dict (get $cfg "admin") }}
{{- $_ = set $admin "listen" (printf "0.0.0.0:%d" (int .Values.ports.admin)) }}
{{- $_ = set $cfg "admin" $admin }}
{{- $inbound := default dict (get $cfg "inbound") }}
{{- $_ = set $inbound "listen" (printf "0.0.0.0:%d" (int .Values.ports.inbound)) }}
{{- $_ = set $cfg "inbound" $inbound }}
{{- $outbound := default dict (get $cfg "outbound") }}
{{- $_ = set $outbound "drain_timeout" (printf "%ds" (int .Values.drainTimeoutSeconds)) }}
{{- $_ = set $cfg "outbound" $outbound }}
{{- toYaml $cfg }}
{{- end }}

{{/* Grace period: drain time plus 15s for closing the consumer and flushing the producer. */}}
{{- define "webhook-bridge.terminationGracePeriodSeconds" -}}
{{- add (int .Values.drainTimeoutSeconds) 15 }}
{{- end }}
