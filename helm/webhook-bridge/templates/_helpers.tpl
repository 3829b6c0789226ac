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
{{- if .Values.admin.tokenSecretKey }}
{{- /* The value itself stays in the Secret; the pod gets it as WB_ADMIN_TOKEN. */}}
{{- $_ = set $admin "token" "${WB_ADMIN_TOKEN}" }}
{{- end }}
{{- $_ = set $cfg "admin" $admin }}
{{- $inbound := default dict (get $cfg "inbound") }}
{{- $_ = set $inbound "listen" (printf "0.0.0.0:%d" (int .Values.ports.inbound)) }}
{{- $_ = set $cfg "inbound" $inbound }}
{{- $outbound := default dict (get $cfg "outbound") }}
{{- $_ = set $outbound "drain_timeout" (printf "%ds" (int .Values.drainTimeoutSeconds)) }}
{{- with .Values.outbound.loops }}
{{- $_ = set $outbound "loops" (int .) }}
{{- end }}
{{- with .Values.outbound.fetchBuffer }}
{{- $_ = set $outbound "fetch_buffer" . }}
{{- end }}
{{- $_ = set $cfg "outbound" $outbound }}
{{- toYaml $cfg }}
{{- end }}

{{/* Grace period: drain time plus 15s for closing the consumer and flushing the producer. */}}
{{- define "webhook-bridge.terminationGracePeriodSeconds" -}}
{{- add (int .Values.drainTimeoutSeconds) 15 }}
{{- end }}

{{/* Secret-derived environment of every pod that runs the bridge binary (Deployment and
     the replay/redrive Jobs): the whole Secret as env, the admin token, extraEnv. */}}
{{- define "webhook-bridge.env" -}}
{{- if and .Values.secrets.existingSecret (eq .Values.secrets.mountAs "env") }}
envFrom:
  - secretRef:
      name: {{ .Values.secrets.existingSecret }}
{{- end }}
{{- if or .Values.admin.tokenSecretKey .Values.extraEnv }}
env:
  {{- with .Values.admin.tokenSecretKey }}
  {{- /* Always by key, also with mountAs files: bridge.yaml reads ${WB_ADMIN_TOKEN}. */}}
  - name: WB_ADMIN_TOKEN
    valueFrom:
      secretKeyRef:
        name: {{ required "admin.tokenSecretKey needs secrets.existingSecret" $.Values.secrets.existingSecret }}
        key: {{ . }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Mounts of the bridge's config, connectors and secrets, and a writable /tmp. */}}
{{- define "webhook-bridge.volumeMounts" -}}
- name: config
  mountPath: /etc/webhook-bridge/bridge.yaml
  subPath: bridge.yaml
  readOnly: true
- name: connectors
  mountPath: /etc/webhook-bridge/connectors
  readOnly: true
{{- if and .Values.secrets.existingSecret (eq .Values.secrets.mountAs "files") }}
- name: secrets
  mountPath: /etc/webhook-bridge/secrets
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "webhook-bridge.volumes" -}}
- name: config
  configMap:
    name: {{ include "webhook-bridge.configMapName" . }}
    items:
      - key: bridge.yaml
        path: bridge.yaml
- name: connectors
  configMap:
    name: {{ include "webhook-bridge.connectorsConfigMapName" . }}
{{- if and .Values.secrets.existingSecret (eq .Values.secrets.mountAs "files") }}
- name: secrets
  secret:
    secretName: {{ .Values.secrets.existingSecret }}
    defaultMode: 0440
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* Labels of the replay/redrive Job pods. Deliberately without app.kubernetes.io/name:
     the Services, the PodDisruptionBudget and the Deployment select on name + instance, and
     a Job pod must never receive inbound webhooks or count as a bridge replica. */}}
{{- define "webhook-bridge.jobSelectorLabels" -}}
app.kubernetes.io/part-of: {{ include "webhook-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector of this release's bridge metrics in the alert expressions. */}}
{{- define "webhook-bridge.alertSelector" -}}
{{- if .Values.prometheusRule.selector }}
{{- .Values.prometheusRule.selector }}
{{- else }}
{{- printf "job=%q,namespace=%q" (printf "%s-metrics" (include "webhook-bridge.fullname" .)) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* A replay or redrive Job: the bridge binary with the Deployment's config, Secret and
     security context, run once (restartPolicy Never). The name ends in a hash of the Job's
     spec: Job specs are immutable, so a changed Job (arguments, image, config map names)
     gets a new name and helm replaces it, while an unchanged one is left alone and not run
     again on the next upgrade.
     Call with (dict "root" $ "component" "replay" "spec" .Values.replay "args" $args). */}}
{{- define "webhook-bridge.job" -}}
{{- $body := include "webhook-bridge.jobBody" . }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-%s-%s" (include "webhook-bridge.fullname" .root | trunc 45 | trimSuffix "-") .component ($body | sha256sum | trunc 8) }}
  labels:
    {{- include "webhook-bridge.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
{{ $body }}
{{- end }}

{{- define "webhook-bridge.jobBody" -}}
{{- $root := .root -}}
spec:
  backoffLimit: {{ .spec.backoffLimit }}
  {{- with .spec.activeDeadlineSeconds }}
  activeDeadlineSeconds: {{ . }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "webhook-bridge.jobSelectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $root.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "webhook-bridge.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automount }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "webhook-bridge.terminationGracePeriodSeconds" $root }}
      containers:
        - name: {{ .component }}
          image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          {{- with include "webhook-bridge.env" $root | trim }}
          {{- . | nindent 10 }}
          {{- end }}
          resources:
            {{- toYaml $root.Values.resources | nindent 12 }}
          volumeMounts:
            {{- include "webhook-bridge.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "webhook-bridge.volumes" $root | nindent 8 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* labels + annotations of one alert rule; the summary and description are Prometheus
     templates, passed through verbatim. */}}
{{- define "webhook-bridge.alertMeta" -}}
labels:
  severity: {{ .severity }}
  {{- with .labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  summary: {{ .summary | quote }}
  description: {{ .description | quote }}
  {{- with .runbook }}
  runbook_url: {{ printf "%s#%s" . $.anchor | quote }}
  {{- end }}
{{- end }}
