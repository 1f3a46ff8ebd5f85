{{/*
The chart name, or nameOverride.
*/}}
{{- define "zookeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: `<release>-zookeeper`, or the release name when it already holds the chart name.
Cut to 52 characters so `<fullname>-headless` and the pods' controller-revision-hash label (`<fullname>-<hash>`)
stay within the 63 allowed.
*/}}
{{- define "zookeeper.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The headless Service the members find each other through; the StatefulSet's serviceName.
*/}}
{{- define "zookeeper.headlessServiceName" -}}
{{- printf "%s-headless" (include "zookeeper.fullname" .) }}
{{- end }}

{{/*
The ConfigMap holding the ZOO_* settings.
*/}}
{{- define "zookeeper.configMapName" -}}
{{- printf "%s-config" (include "zookeeper.fullname" .) }}
{{- end }}

{{/*
The ConfigMap holding the member count (key `replicas`), mounted at /etc/zookeeper/ensemble.
*/}}
{{- define "zookeeper.ensembleConfigMapName" -}}
{{- printf "%s-ensemble" (include "zookeeper.fullname" .) }}
{{- end }}

{{/*
The Secret holding the admin password (key `password`), mounted at /etc/zookeeper/admin: auth.existingSecret, or the
one the chart generates.
*/}}
{{- define "zookeeper.adminSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-admin" (include "zookeeper.fullname" .)) }}
{{- end }}

{{- define "zookeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object and pod.
*/}}
{{- define "zookeeper.labels" -}}
{{ include "zookeeper.selectorLabels" . }}
{{ include "zookeeper.commonLabels" . }}
{{- end }}

{{/*
The labels that are the same on every object of the release, the helm test pod included.
*/}}
{{- define "zookeeper.commonLabels" -}}
app.kubernetes.io/part-of: kube-zookeeper
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "zookeeper.chart" . }}
{{- end }}

{{/*
The stable labels selectors use: never the version, so an upgrade keeps selecting the same pods.
*/}}
{{- define "zookeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zookeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: ensemble
{{- end }}

{{/*
The image reference: repository@digest when a digest is set, else repository:tag.
*/}}
{{- define "zookeeper.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}
{{- end }}

{{/*
The pod securityContext of members and the test pod: non-root and seccomp always; uid and fsGroup when pinned.
*/}}
{{- define "zookeeper.podSecurityContext" -}}
runAsNonRoot: true
{{- if not (kindIs "invalid" .Values.securityContext.runAsUser) }}
runAsUser: {{ .Values.securityContext.runAsUser }}
{{- end }}
{{- if not (kindIs "invalid" .Values.securityContext.fsGroup) }}
fsGroup: {{ .Values.securityContext.fsGroup }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The container securityContext of members and the test pod.
*/}}
{{- define "zookeeper.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}

{{/*
Where the volumes are mounted; the ZOO_*_DIR settings follow these, so they are not values.
*/}}
{{- define "zookeeper.dataMountPath" -}}/var/lib/zookeeper{{- end }}
{{- define "zookeeper.confDir" -}}/opt/zookeeper/conf{{- end }}

{{/*
DNS name of member N (`dict "root" $ "ordinal" N`), resolvable in the release's namespace.
*/}}
{{- define "zookeeper.memberHost" -}}
{{- printf "%s-%d.%s" (include "zookeeper.fullname" .root) (int .ordinal) (include "zookeeper.headlessServiceName" .root) }}
{{- end }}

{{/*
Checks the schema cannot express; a failure stops `helm template` and `helm install` with the reason.
*/}}
{{- define "zookeeper.validateValues" -}}
{{- if gt (int64 .Values.zookeeper.minSessionTimeout) (int64 .Values.zookeeper.maxSessionTimeout) }}
{{- fail (printf "zookeeper.minSessionTimeout (%v) must not exceed zookeeper.maxSessionTimeout (%v)" .Values.zookeeper.minSessionTimeout .Values.zookeeper.maxSessionTimeout) }}
{{- end }}
{{- if lt (int64 .Values.zookeeper.minSessionTimeout) (mul 2 (int64 .Values.zookeeper.tickTime)) }}
{{- fail (printf "zookeeper.minSessionTimeout (%v) must be at least twice zookeeper.tickTime (%v)" .Values.zookeeper.minSessionTimeout .Values.zookeeper.tickTime) }}
{{- end }}
{{- $ports := list .Values.ports.client .Values.ports.server .Values.ports.leaderElection .Values.ports.metrics }}
{{- if ne (len (uniq $ports)) 4 }}
{{- fail (printf "ports: client, server, leaderElection and metrics must differ (got %v)" $ports) }}
{{- end }}
{{- if and .Values.persistence.dataLog.enabled (not .Values.persistence.dataLog.size) }}
{{- fail "persistence.dataLog.size is required when persistence.dataLog.enabled is true" }}
{{- end }}
{{- if eq .Values.image.tag "latest" }}
{{- fail (printf "image.tag: latest is not a pinned tag (ZK-IMG-001): members of one ensemble could run different builds; set a version tag (%s-<image build>), or image.digest" .Chart.AppVersion) }}
{{- end }}
{{- include "zookeeper.checkHeap" . }}
{{- end }}

{{/*
On `helm upgrade`, the step from the count the release runs now (its ensemble ConfigMap, else its StatefulSet) to
.Values.replicas: it may change no more members than the larger ensemble can lose, (max(new, old) - 1) / 2, so the
quorum survives the step (3 -> 5 and 5 -> 3 pass; 3 -> 7 and 3 -> 1 are refused). `helm template` and a first
install have nothing to look up, and pass.
*/}}
{{- define "zookeeper.checkScaleStep" -}}
{{- $new := int .Values.replicas }}
{{- $old := 0 }}
{{- $ensemble := lookup "v1" "ConfigMap" .Release.Namespace (include "zookeeper.ensembleConfigMapName" .) }}
{{- $statefulset := lookup "apps/v1" "StatefulSet" .Release.Namespace (include "zookeeper.fullname" .) }}
{{- if and $ensemble $ensemble.data (index $ensemble.data "replicas") }}
{{- $old = atoi (index $ensemble.data "replicas") }}
{{- else if and $statefulset $statefulset.spec }}
{{- $old = int $statefulset.spec.replicas }}
{{- end }}
{{- if gt $old 0 }}
{{- $larger := max $new $old }}
{{- $step := sub $larger (min $new $old) }}
{{- $tolerated := div (sub $larger 1) 2 }}
{{- if gt $step $tolerated }}
{{- $via := list }}
{{- $at := $old }}
{{- range until 8 }}
{{- if ne $at $new }}
{{- $next := min $new (sub (mul $at 2) 1) }}
{{- if lt $new $at }}
{{- $next = div (add $at 1) 2 }}
{{- if eq (mod $next 2) 0 }}{{ $next = add $next 1 }}{{ end }}
{{- $next = max $new $next }}
{{- end }}
{{- if ne $next $at }}{{ $via = append $via (toString $next) }}{{ end }}
{{- $at = $next }}
{{- end }}
{{- end }}
{{- $how := printf "go %d -> %s, one helm upgrade each, waiting for the rollout between them" $old (join " -> " $via) }}
{{- if ne $at $new }}
{{- $how = printf "no odd step from %d reaches %d with a quorum left at every step; keep %d or more" $old $new $at }}
{{- end }}
{{- fail (printf "replicas %d -> %d changes %d members at once, more than the %d that %d members can lose with a quorum left; %s" $old $new $step $tolerated $larger $how) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The policy rule ZK-RES-004 (tools/policy/rules.py), word for word, so a chart user who never runs `nox -s validate`
is stopped too: the heap plus headroom max(128Mi, 25% of the limit) must fit resources.limits.memory.
*/}}
{{- define "zookeeper.checkHeap" -}}
{{- $mi := 1048576.0 }}
{{- $limit := include "zookeeper.quantityBytes" .Values.resources.limits.memory | float64 }}
{{- $heapUnits := dict "k" 1024.0 "m" $mi "g" (mulf $mi 1024) "t" (mulf $mi 1048576) }}
{{- $heapNumber := regexFind "^[0-9]+" .Values.heap }}
{{- $heap := mulf ($heapNumber | float64) (get $heapUnits (lower (trimPrefix $heapNumber .Values.heap))) }}
{{- $headroom := maxf (mulf 128 $mi) (divf $limit 4) }}
{{- if gt (addf $heap $headroom) $limit }}
{{- fail (printf "ZK-RES-004: heap %s (%s) plus headroom %s (max(128Mi, 25%% of the limit)) = %s exceeds container zookeeper's memory limit %s; lower the heap to %dM or raise the limit (chart values: heap, resources.limits.memory)" .Values.heap (include "zookeeper.humanBytes" $heap) (include "zookeeper.humanBytes" $headroom) (include "zookeeper.humanBytes" (addf $heap $headroom)) (include "zookeeper.humanBytes" $limit) (int (floor (divf (subf $limit $headroom) $mi)))) }}
{{- end }}
{{- end }}

{{/*
Bytes in a Kubernetes quantity (512Mi, 1Gi, 2G, 1.5Gi, 1073741824), as tools.policy.model.k8s_bytes reads it.
*/}}
{{- define "zookeeper.quantityBytes" -}}
{{- $text := toString . }}
{{- $number := regexFind "^[0-9.]+" $text }}
{{- $units := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "m" 0.001 }}
{{- mulf ($number | float64) (get $units (trimPrefix $number $text)) }}
{{- end }}

{{/*
A byte count as tools.policy.model.human writes it: 1Gi, 768Mi, 1.50Gi.
*/}}
{{- define "zookeeper.humanBytes" -}}
{{- $bytes := float64 . }}
{{- $unit := "" }}{{- $value := $bytes }}
{{- if ge $bytes 1073741824.0 }}{{ $unit = "Gi" }}{{ $value = divf $bytes 1073741824 }}
{{- else if ge $bytes 1048576.0 }}{{ $unit = "Mi" }}{{ $value = divf $bytes 1048576 }}
{{- else }}{{ $unit = "B" }}
{{- end }}
{{- if eq $value (floor $value) }}{{ printf "%g%s" $value $unit }}{{ else }}{{ printf "%.2f%s" $value $unit }}{{ end }}
{{- end }}

{{/*
The labels of the metrics Service, ServiceMonitor, rules and dashboard: the release's, with component metrics.
*/}}
{{- define "zookeeper.metricsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "zookeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: metrics
{{- end }}

{{- define "zookeeper.metricsLabels" -}}
{{ include "zookeeper.metricsSelectorLabels" . }}
{{ include "zookeeper.commonLabels" . }}
{{- end }}
