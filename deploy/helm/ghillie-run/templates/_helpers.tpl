{{/* The chart's name for its objects: RELEASE-ghillie-run, at most 52 characters (a CronJob's limit). */}}
{{- define "ghillie-run.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "ghillie-run.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ghillie-run.configMap" -}}
{{- if .Values.manifest.inline -}}{{ include "ghillie-run.fullname" . }}-manifest{{- else -}}{{ required "manifest.existingConfigMap or manifest.inline is required" .Values.manifest.existingConfigMap }}{{- end -}}
{{- end -}}

{{/* Where the manifest sits in the pod: under /config, at its place in manifest.paths if it has one. */}}
{{- define "ghillie-run.manifestPath" -}}
/config/{{ get .Values.manifest.paths .Values.manifest.key | default .Values.manifest.key }}
{{- end -}}

{{- define "ghillie-run.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The environment every container gets: secrets by reference, and the log format. */}}
{{- define "ghillie-run.env" -}}
{{- if .Values.secrets.github.key }}
- name: {{ .Values.secrets.github.env }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.github.key }}
{{- end }}
- name: GHILLIE_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.store.key }}
- name: {{ .Values.secrets.githubApp.env }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.githubApp.key }}
      optional: {{ .Values.secrets.githubApp.optional }}
- name: {{ .Values.secrets.model.env }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.model.key }}
      optional: {{ .Values.secrets.model.optional }}
{{- range .Values.secrets.extra }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ .key }}
      optional: {{ .optional | default false }}
{{- end }}
{{- if .Values.tls.caBundle.existingConfigMap }}
- name: GHILLIE_CA_BUNDLE
  value: /etc/ghillie/ca/{{ .Values.tls.caBundle.key }}
{{- end }}
- name: GHILLIE_LOG_FORMAT
  value: {{ .Values.run.logFormat | quote }}
- name: NO_COLOR
  value: "1"
{{- end -}}

{{- define "ghillie-run.mounts" -}}
- name: manifest
  mountPath: /config
  readOnly: true
- name: work
  mountPath: /work
- name: tmp
  mountPath: /tmp
{{- if .Values.tls.caBundle.existingConfigMap }}
- name: ca-bundle
  mountPath: /etc/ghillie/ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "ghillie-run.volumes" -}}
- name: manifest
  configMap:
    name: {{ include "ghillie-run.configMap" . }}
    {{- with .Values.manifest.paths }}
    {{- /* Each key at its path under /config, as in the repository, so the manifest's relative paths resolve. */}}
    items:
      {{- if not (hasKey . $.Values.manifest.key) }}
      - key: {{ $.Values.manifest.key }}
        path: {{ $.Values.manifest.key }}
      {{- end }}
      {{- range $key, $path := . }}
      - key: {{ $key }}
        path: {{ $path }}
      {{- end }}
    {{- end }}
- name: work
{{- if .Values.output.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.output.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- if .Values.tls.caBundle.existingConfigMap }}
- name: ca-bundle
  configMap:
    name: {{ .Values.tls.caBundle.existingConfigMap }}
    items:
      - key: {{ .Values.tls.caBundle.key }}
        path: {{ .Values.tls.caBundle.key }}
{{- end }}
{{- end -}}

{{/* A container running ghillie-run with the given arguments. */}}
{{- define "ghillie-run.container" -}}
- name: {{ .name }}
  image: {{ include "ghillie-run.image" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args:
  {{- range .args }}
    - {{ . | quote }}
  {{- end }}
  workingDir: /work
  env:
    {{- include "ghillie-run.env" .root | nindent 4 }}
  volumeMounts:
    {{- include "ghillie-run.mounts" .root | nindent 4 }}
  resources:
    {{- toYaml .root.Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
{{- end -}}

{{/* The pod of a run: `check` first (unless turned off), then `ghillie-run MANIFEST ARGS`, or with
     several workers `ghillie-run worker MANIFEST --submit-if-absent ARGS`. */}}
{{- define "ghillie-run.runPod" -}}
{{- $manifest := include "ghillie-run.manifestPath" .root -}}
metadata:
  labels:
    {{- include "ghillie-run.labels" .root | nindent 4 }}
  {{- with .root.Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  restartPolicy: Never
  securityContext:
    {{- toYaml .root.Values.podSecurityContext | nindent 4 }}
  {{- with .root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if .root.Values.check.beforeRun }}
  initContainers:
    {{- include "ghillie-run.container" (dict "root" .root "name" "check" "args" (list "check" $manifest)) | nindent 4 }}
  {{- end }}
  containers:
    {{- if gt (int .root.Values.run.workers) 1 }}
    {{- include "ghillie-run.container" (dict "root" .root "name" "run" "args" (concat (list "worker" $manifest "--submit-if-absent") .args)) | nindent 4 }}
    {{- else }}
    {{- include "ghillie-run.container" (dict "root" .root "name" "run" "args" (concat (list $manifest) .args)) | nindent 4 }}
    {{- end }}
  volumes:
    {{- include "ghillie-run.volumes" .root | nindent 4 }}
  {{- with .root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* A Job's pods: one, or a pool of workers. Without `completions` the Job is done when one pod
     succeeds and the rest have ended: a worker exits 0 only once the run is finished. */}}
{{- define "ghillie-run.parallelism" -}}
{{- if gt (int .Values.run.workers) 1 }}
parallelism: {{ .Values.run.workers }}
{{- end }}
{{- end -}}
