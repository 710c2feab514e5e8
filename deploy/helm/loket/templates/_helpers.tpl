{{/* Names and labels. */}}
{{- define "loket.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "loket.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "loket.selectorLabels" -}}
app.kubernetes.io/name: {{ include "loket.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "loket.labels" -}}
{{ include "loket.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "loket.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The non-secret settings, empty ones left out; stops when the settings cannot work. */}}
{{- define "loket.settings" -}}
{{- $settings := .Values.settings -}}
{{- $public := default "" $settings.LOKET_PUBLIC_URL | toString -}}
{{- if not (hasPrefix "https://" $public) -}}
{{- fail "settings.LOKET_PUBLIC_URL is required: the https address people reach loket at" -}}
{{- end -}}
{{- if gt (int .Values.web.replicas) 1 -}}
{{- if not (or (hasPrefix "redis" (default "" $settings.LOKET_RATE_LIMIT_STORAGE | toString)) (has "LOKET_RATE_LIMIT_STORAGE" .Values.secretKeys)) -}}
{{- fail "several web replicas need a shared Redis: set settings.LOKET_RATE_LIMIT_STORAGE (redis://...) or put it in secretKeys" -}}
{{- end -}}
{{- if not (has "LOKET_SECRET_KEY" .Values.secretKeys) -}}
{{- fail "several web replicas need one LOKET_SECRET_KEY: keep it in secretKeys" -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := $settings }}
{{- if ne (toString $value) "" }}
{{ $name }}: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The secret settings, each from its key in the existing Secret. */}}
{{- define "loket.secretEnv" -}}
{{- range .Values.secretKeys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{- define "loket.podSpec" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- end -}}

{{- define "loket.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/loket
{{- end -}}

{{/* What a container that reads the ConfigMap needs: image, security, settings and secrets. */}}
{{- define "loket.container" -}}
image: {{ include "loket.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
envFrom:
  - configMapRef:
      name: {{ include "loket.fullname" . }}
env:
  {{- include "loket.secretEnv" . | trim | nindent 2 }}
volumeMounts:
  {{- include "loket.volumeMounts" . | nindent 2 }}
{{- end -}}

{{- define "loket.configChecksum" -}}
checksum/settings: {{ include "loket.settings" . | sha256sum }}
{{- end -}}
