package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// scenario: values files (relative to tests/helm) on top of the chart's values.yaml.
type scenario struct {
	name  string
	files []string
	// check: run `webhook-bridge check` on the rendered config (see config_test.go).
	check bool
}

// The values files every object test renders: defaults, every feature on, an existing
// Secret, existing ConfigMaps, KEDA, HPA, ingress with TLS, the operator's extras (alerts,
// dashboard, replay and redrive Jobs) and the outbound engine's keys.
var scenarios = []scenario{
	{"default", nil, true},
	{"values-all", []string{"values-all.yaml"}, true},
	{"existing-secret", []string{"values/existing-secret.yaml"}, true},
	{"existing-configmaps", []string{"values/existing-configmaps.yaml"}, false},
	{"keda", []string{"values/keda.yaml"}, true},
	{"hpa", []string{"values/hpa.yaml"}, true},
	{"ingress-tls", []string{"values/ingress-tls.yaml"}, true},
	{"monitoring", []string{"values/monitoring.yaml"}, true},
	{"outbound-engine", []string{"values/outbound-engine.yaml"}, true},
}

// rendered is one scenario's output: documents, typed objects and the merged values.
type rendered struct {
	values map[string]any
	docs   []doc
	objs   map[string][]runtime.Object // by kind
	dir    string                      // where the stream and the laid-out config are written
}

// renderScenario runs helm template for sc, decodes every document strictly and writes the
// stream to WB_OUT/<name>/manifest.yaml.
func renderScenario(t *testing.T, sc scenario) *rendered {
	t.Helper()
	stream, err := runHelm(templateArgs(env.chart, sc.files)...)
	if err != nil {
		t.Fatal(err)
	}
	r := &rendered{values: mergedValues(t, sc.files), objs: map[string][]runtime.Object{},
		dir: filepath.Join(env.out, sc.name)}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(r.dir, "manifest.yaml"), []byte(stream), 0o644)
	if r.docs, err = splitStream(stream); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range r.docs {
		obj, err := decodeStrict(d.raw)
		if err != nil {
			t.Errorf("%s: %s/%s does not decode strictly: %v", d.source, d.kind, d.name, err)
			continue
		}
		key := d.kind + "/" + d.name
		if seen[key] {
			t.Errorf("duplicate %s", key)
		}
		seen[key] = true
		m, ok := obj.(metav1.Object)
		if !ok {
			t.Errorf("%s: %T has no metadata", d.source, obj)
			continue
		}
		for _, e := range checkMeta(d.kind, m) {
			t.Error(e)
		}
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance",
			"app.kubernetes.io/managed-by", "helm.sh/chart"} {
			if m.GetLabels()[l] == "" {
				t.Errorf("%s lacks label %s", key, l)
			}
		}
		r.objs[d.kind] = append(r.objs[d.kind], obj)
	}
	return r
}

func TestRender(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := renderScenario(t, sc)
			if t.Failed() {
				return
			}
			assertObjects(t, r)
			if sc.check {
				checkBridgeConfig(t, r)
			}
			t.Logf("%d documents decoded strictly and asserted", len(r.docs))
		})
	}
}

func typed[T runtime.Object](r *rendered, kind string) []T {
	var out []T
	for _, o := range r.objs[kind] {
		out = append(out, o.(T))
	}
	return out
}

func selects(sel map[string]string, podLabels map[string]string) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(podLabels))
}

func selectsLS(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("label selector %v: %v", sel, err)
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// assertObjects: the expected kinds for these values, selectors that match the pods they
// mean (and only those), ports that exist, secrets named only from existingSecret, the
// restricted pod, the drain bound and the config checksum.
func assertObjects(t *testing.T, r *rendered) {
	v := r.values
	cms := 2
	if str(get(v, "config", "existingConfigMap")) != "" {
		cms--
	}
	if str(get(v, "config", "existingConnectorsConfigMap")) != "" {
		cms--
	}
	if truthy(get(v, "grafanaDashboard", "enabled")) {
		cms++
	}
	jobs := 0
	for _, j := range []string{"replay", "redrive"} {
		if truthy(get(v, j, "enabled")) {
			jobs++
		}
	}
	nps := 0
	if truthy(get(v, "networkPolicy", "enabled")) {
		nps = 1
		if jobs > 0 {
			nps = 2
		}
	}
	want := map[string]int{"Deployment": 1, "Service": 2, "ConfigMap": cms, "Job": jobs,
		"NetworkPolicy": nps}
	cond := func(kind string, path ...any) {
		want[kind] = 0
		if truthy(get(v, path...)) {
			want[kind] = 1
		}
	}
	cond("ServiceAccount", "serviceAccount", "create")
	cond("PodDisruptionBudget", "podDisruptionBudget", "enabled")
	cond("Ingress", "ingress", "enabled")
	cond("HorizontalPodAutoscaler", "autoscaling", "enabled")
	cond("ScaledObject", "keda", "enabled")
	cond("ServiceMonitor", "metrics", "serviceMonitor", "enabled")
	cond("PrometheusRule", "prometheusRule", "enabled")
	for kind, n := range want {
		if len(r.objs[kind]) != n {
			t.Errorf("want %d %s, got %d", n, kind, len(r.objs[kind]))
		}
	}
	for kind := range r.objs {
		if _, ok := want[kind]; !ok {
			t.Errorf("unexpected kind %s", kind)
		}
	}
	deps := typed[*appsv1.Deployment](r, "Deployment")
	if len(deps) != 1 {
		return
	}
	dep := deps[0]
	pod := dep.Spec.Template
	if !selectsLS(t, dep.Spec.Selector, pod.Labels) {
		t.Errorf("Deployment selector %v does not match pod labels %v", dep.Spec.Selector, pod.Labels)
	}
	scaled := truthy(get(v, "autoscaling", "enabled")) || truthy(get(v, "keda", "enabled"))
	if (dep.Spec.Replicas != nil) == scaled {
		t.Errorf("spec.replicas present=%v with autoscaling=%v", dep.Spec.Replicas != nil, scaled)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want 1 container, got %d", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
		for _, e := range validation.IsValidPortName(p.Name) {
			t.Errorf("container port name %q: %s", p.Name, e)
		}
	}
	num := func(path ...any) int32 {
		var n int32
		fmt.Sscan(str(get(v, path...)), &n)
		return n
	}
	if ports["inbound"] != num("ports", "inbound") || ports["admin"] != num("ports", "admin") {
		t.Errorf("container ports %v, want inbound=%d admin=%d", ports, num("ports", "inbound"), num("ports", "admin"))
	}

	// Probes: /healthz and /readyz on the named admin port.
	for name, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("no HTTP probe for %s", name)
			continue
		}
		if probe.HTTPGet.Path != name || probe.HTTPGet.Port.String() != "admin" {
			t.Errorf("probe %s:%s, want %s on port admin", probe.HTTPGet.Path, probe.HTTPGet.Port.String(), name)
		}
	}

	// Services select the pods and target declared ports.
	svcPorts := map[string]map[string]bool{}
	services := typed[*corev1.Service](r, "Service")
	for _, svc := range services {
		if !selects(svc.Spec.Selector, pod.Labels) {
			t.Errorf("Service %s selector does not match the pods", svc.Name)
		}
		svcPorts[svc.Name] = map[string]bool{}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s targets port %q the container lacks", svc.Name, p.TargetPort.String())
			}
			svcPorts[svc.Name][p.Name] = true
		}
	}
	if !svcPorts[dep.Name]["inbound"] || !svcPorts[dep.Name+"-metrics"]["admin"] {
		t.Errorf("want Service %s (inbound) and %s-metrics (admin), got %v", dep.Name, dep.Name, svcPorts)
	}
	for _, pdb := range typed[*policyv1.PodDisruptionBudget](r, "PodDisruptionBudget") {
		if !selectsLS(t, pdb.Spec.Selector, pod.Labels) {
			t.Errorf("PodDisruptionBudget selector does not match the pods")
		}
	}
	var jobNP *networkingv1.NetworkPolicy
	for _, np := range typed[*networkingv1.NetworkPolicy](r, "NetworkPolicy") {
		if np.Name == dep.Name+"-jobs" {
			jobNP = np
			continue
		}
		if !selectsLS(t, &np.Spec.PodSelector, pod.Labels) {
			t.Errorf("NetworkPolicy %s podSelector does not match the pods", np.Name)
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if _, ok := ports[p.Port.String()]; !ok {
					t.Errorf("NetworkPolicy allows unknown port %v", p.Port.String())
				}
			}
		}
	}
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if !selectsLS(t, tsc.LabelSelector, pod.Labels) {
			t.Errorf("topologySpreadConstraint selector does not match the pods")
		}
	}
	if truthy(get(v, "topologySpread", "enabled")) && len(pod.Spec.TopologySpreadConstraints) == 0 {
		t.Errorf("topologySpread enabled but no constraints")
	}
	for _, hpa := range typed[*autoscalingv2.HorizontalPodAutoscaler](r, "HorizontalPodAutoscaler") {
		if hpa.Spec.ScaleTargetRef.Name != dep.Name || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("HorizontalPodAutoscaler does not target the Deployment")
		}
	}
	for _, so := range typed[*kedav1alpha1.ScaledObject](r, "ScaledObject") {
		if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name != dep.Name ||
			so.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("ScaledObject does not target the Deployment")
		}
		var groups []string
		for _, tr := range so.Spec.Triggers {
			if tr.Type != "kafka" || tr.Metadata["bootstrapServers"] == "" {
				t.Errorf("ScaledObject trigger %+v is not a kafka lag trigger", tr)
			}
			groups = append(groups, tr.Metadata["consumerGroup"])
		}
		if want := wantKedaGroups(v); strings.Join(groups, " ") != strings.Join(want, " ") {
			t.Errorf("ScaledObject measures groups %q, want %q", groups, want)
		}
	}
	for _, ing := range typed[*networkingv1.Ingress](r, "Ingress") {
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				svc := p.Backend.Service
				if svc == nil || !svcPorts[svc.Name][svc.Port.Name] {
					t.Errorf("Ingress backend %v is not a rendered Service port", svc)
				}
			}
		}
		hosts := map[string]bool{}
		for _, rule := range ing.Spec.Rules {
			hosts[rule.Host] = true
		}
		for _, tls := range ing.Spec.TLS {
			if tls.SecretName == "" {
				t.Errorf("Ingress TLS entry without secretName")
			}
			for _, h := range tls.Hosts {
				if !hosts[h] {
					t.Errorf("Ingress TLS host %s has no rule", h)
				}
			}
		}
	}
	for _, sm := range typed[*monitoringv1.ServiceMonitor](r, "ServiceMonitor") {
		matched := 0
		for _, svc := range services {
			if selectsLS(t, &sm.Spec.Selector, svc.Labels) {
				matched++
				if len(sm.Spec.Endpoints) == 0 || !svcPorts[svc.Name][sm.Spec.Endpoints[0].Port] {
					t.Errorf("ServiceMonitor endpoint port is not on the Service")
				}
			}
		}
		if matched != 1 {
			t.Errorf("ServiceMonitor selects %d Services, want exactly the metrics one", matched)
		}
	}

	assertPodSecrets(t, v, "Deployment", pod.Spec, c)
	assertRestricted(t, "Deployment", pod.Spec, c)
	assertMounts(t, r, "Deployment", pod.Spec, c)

	// Grace period outlives the drain, and the config checksum is a sha256.
	drain := int64(num("drainTimeoutSeconds"))
	if pod.Spec.TerminationGracePeriodSeconds == nil || !(*pod.Spec.TerminationGracePeriodSeconds > drain) {
		t.Errorf("terminationGracePeriodSeconds %v not > drain %d", pod.Spec.TerminationGracePeriodSeconds, drain)
	}
	if cs := pod.Annotations["checksum/config"]; !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(cs) {
		t.Errorf("checksum/config annotation %q is not a sha256", cs)
	}

	assertJobs(t, r, dep, jobNP, services)
}

// assertPodSecrets: Secret references name existingSecret, and only when it is set.
func assertPodSecrets(t *testing.T, v map[string]any, who string, spec corev1.PodSpec, c corev1.Container) {
	secret := str(get(v, "secrets", "existingSecret"))
	mountAs := str(get(v, "secrets", "mountAs"))
	var refs []string
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			refs = append(refs, "env:"+ef.SecretRef.Name)
		}
	}
	for _, vol := range spec.Volumes {
		if vol.Secret != nil {
			refs = append(refs, "files:"+vol.Secret.SecretName)
		}
	}
	tokenKey := str(get(v, "admin", "tokenSecretKey"))
	sawToken := false
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != secret {
			t.Errorf("%s: env %s references Secret %q, not existingSecret", who, e.Name, ref.Name)
		}
		if e.Name == "WB_ADMIN_TOKEN" {
			sawToken = ref.Key == tokenKey
		}
	}
	if (tokenKey != "") != sawToken {
		t.Errorf("%s: WB_ADMIN_TOKEN from key %q: present=%v", who, tokenKey, sawToken)
	}
	switch {
	case secret == "" && len(refs) != 0:
		t.Errorf("%s: secret references %v without existingSecret", who, refs)
	case secret != "" && (len(refs) != 1 || refs[0] != mountAs+":"+secret):
		t.Errorf("%s: secret references %v, want exactly %s:%s", who, refs, mountAs, secret)
	}
}

// assertRestricted: the restricted Pod Security Standard, and a read-only root.
func assertRestricted(t *testing.T, who string, spec corev1.PodSpec, c corev1.Container) {
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Errorf("%s: no security context", who)
		return
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil ||
		psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext not restricted: %+v", who, psc)
	}
	if psc.RunAsUser == nil || *psc.RunAsUser == 0 || (csc.RunAsUser != nil && *csc.RunAsUser == 0) {
		t.Errorf("%s: runs as root", who)
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
		(csc.Privileged != nil && *csc.Privileged) {
		t.Errorf("%s: container securityContext not restricted: %+v", who, csc)
	}
	if csc.Capabilities == nil || len(csc.Capabilities.Add) > 0 ||
		len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("%s: capabilities must drop ALL and add none", who)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Errorf("%s: host namespaces used", who)
	}
}

// assertMounts: every mount names a volume; config where the bridge reads it; /tmp an
// emptyDir; ConfigMaps rendered or the existing ones named.
func assertMounts(t *testing.T, r *rendered, who string, spec corev1.PodSpec, c corev1.Container) {
	v := r.values
	volumes := map[string]corev1.Volume{}
	for _, vol := range spec.Volumes {
		volumes[vol.Name] = vol
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("%s: volumeMount %s has no volume", who, m.Name)
		}
		if m.MountPath != "/tmp" && !m.ReadOnly {
			t.Errorf("%s: %s is mounted read-write", who, m.MountPath)
		}
		mounts[m.MountPath] = m.Name
	}
	for path, vol := range map[string]string{"/etc/webhook-bridge/bridge.yaml": "config",
		"/etc/webhook-bridge/connectors": "connectors", "/tmp": "tmp"} {
		if mounts[path] != vol {
			t.Errorf("%s: %s is not mounted from volume %s (mounts %v)", who, path, vol, mounts)
		}
	}
	if str(get(v, "secrets", "existingSecret")) != "" && str(get(v, "secrets", "mountAs")) == "files" &&
		mounts["/etc/webhook-bridge/secrets"] != "secrets" {
		t.Errorf("%s: secrets not mounted at /etc/webhook-bridge/secrets", who)
	}
	if volumes["tmp"].EmptyDir == nil {
		t.Errorf("%s: /tmp is not an emptyDir", who)
	}
	cmNames := map[string]bool{}
	for _, cm := range typed[*corev1.ConfigMap](r, "ConfigMap") {
		cmNames[cm.Name] = true
	}
	for vol, existing := range map[string]string{"config": str(get(v, "config", "existingConfigMap")),
		"connectors": str(get(v, "config", "existingConnectorsConfigMap"))} {
		cm := volumes[vol].ConfigMap
		if cm == nil {
			t.Errorf("%s: volume %s is not a ConfigMap", who, vol)
			continue
		}
		if existing != "" && cm.Name != existing {
			t.Errorf("%s: volume %s uses ConfigMap %q, want existing %q", who, vol, cm.Name, existing)
		}
		if existing == "" && !cmNames[cm.Name] {
			t.Errorf("%s: volume %s uses ConfigMap %q which is not rendered", who, vol, cm.Name)
		}
	}
}

// assertJobs: the replay/redrive Jobs run the binary once with the Deployment's config,
// Secret, security context and service account, are selected by no Service, PDB or the
// Deployment, and have a NetworkPolicy of their own.
func assertJobs(t *testing.T, r *rendered, dep *appsv1.Deployment, jobNP *networkingv1.NetworkPolicy, services []*corev1.Service) {
	v := r.values
	jobs := typed[*batchv1.Job](r, "Job")
	if truthy(get(v, "networkPolicy", "enabled")) && len(jobs) > 0 && jobNP == nil {
		t.Errorf("Jobs rendered without their NetworkPolicy")
	}
	dc := dep.Spec.Template.Spec.Containers[0]
	for _, job := range jobs {
		who := "Job " + job.Name
		component := job.Spec.Template.Labels["app.kubernetes.io/component"]
		spec := job.Spec.Template.Spec
		if spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: restartPolicy %q, want Never", who, spec.RestartPolicy)
		}
		if job.Spec.BackoffLimit == nil || fmt.Sprint(*job.Spec.BackoffLimit) != str(get(v, component, "backoffLimit")) {
			t.Errorf("%s: backoffLimit %v, want %s", who, job.Spec.BackoffLimit, str(get(v, component, "backoffLimit")))
		}
		if len(spec.Containers) != 1 {
			t.Errorf("%s: want 1 container", who)
			continue
		}
		c := spec.Containers[0]
		if c.Image != dc.Image || spec.ServiceAccountName != dep.Spec.Template.Spec.ServiceAccountName {
			t.Errorf("%s: image/serviceAccount %s/%s differ from the Deployment's", who, c.Image, spec.ServiceAccountName)
		}
		// Pointers compared by what they point to.
		ds := dep.Spec.Template.Spec
		if !reflect.DeepEqual([]any{c.Env, c.EnvFrom, c.VolumeMounts, spec.Volumes},
			[]any{dc.Env, dc.EnvFrom, dc.VolumeMounts, ds.Volumes}) {
			t.Errorf("%s: env, mounts or volumes differ from the Deployment's", who)
		}
		if !reflect.DeepEqual([]any{c.SecurityContext, spec.SecurityContext, spec.AutomountServiceAccountToken},
			[]any{dc.SecurityContext, ds.SecurityContext, ds.AutomountServiceAccountToken}) {
			t.Errorf("%s: security context differs from the Deployment's", who)
		}
		assertPodSecrets(t, v, who, spec, c)
		assertRestricted(t, who, spec, c)
		assertMounts(t, r, who, spec, c)
		if want := wantJobArgs(v, component); strings.Join(c.Args, " ") != strings.Join(want, " ") {
			t.Errorf("%s: args %q, want %q", who, c.Args, want)
		}
		podLabels := job.Spec.Template.Labels
		if selectsLS(t, dep.Spec.Selector, podLabels) {
			t.Errorf("%s: the Deployment's selector matches the Job's pods", who)
		}
		for _, svc := range services {
			if selects(svc.Spec.Selector, podLabels) {
				t.Errorf("%s: Service %s would send traffic to the Job's pods", who, svc.Name)
			}
		}
		for _, pdb := range typed[*policyv1.PodDisruptionBudget](r, "PodDisruptionBudget") {
			if selectsLS(t, pdb.Spec.Selector, podLabels) {
				t.Errorf("%s: the PodDisruptionBudget counts the Job's pods", who)
			}
		}
		if jobNP != nil {
			if !selectsLS(t, &jobNP.Spec.PodSelector, podLabels) {
				t.Errorf("%s: NetworkPolicy %s does not select the Job's pods", who, jobNP.Name)
			}
			if len(jobNP.Spec.Ingress) != 0 {
				t.Errorf("%s: something may connect to the Job's pods", who)
			}
		}
	}
	if jobNP != nil && selectsLS(t, &jobNP.Spec.PodSelector, dep.Spec.Template.Labels) {
		t.Errorf("NetworkPolicy %s (deny ingress) selects the bridge's pods", jobNP.Name)
	}
}

// wantJobArgs: the command line issue 11 specifies, from the values.
func wantJobArgs(v map[string]any, component string) []string {
	args := []string{component, "-c", "/etc/webhook-bridge/bridge.yaml"}
	flags := map[string][]string{"replay": {"connector", "from", "to", "events"},
		"redrive": {"connector", "reason", "since"}}
	for _, f := range flags[component] {
		if s := str(get(v, component, f)); s != "" {
			args = append(args, "--"+f, s)
		}
	}
	if truthy(get(v, component, "dryRun")) {
		args = append(args, "--dry-run")
	}
	return args
}

// wantKedaGroups: keda.consumerGroup, else the consumer group of every outbound connector
// (its group_id, else <kafka group.id>.<name>), in name order as helm ranges over the map.
func wantKedaGroups(v map[string]any) []string {
	if g := str(get(v, "keda", "consumerGroup")); g != "" {
		return []string{g}
	}
	base := str(get(v, "config", "bridge", "kafka", "group.id"))
	if base == "" {
		base = "webhook-bridge"
	}
	conns, _ := get(v, "config", "connectors").(map[string]any)
	var names []string
	for n := range conns {
		names = append(names, n)
	}
	sort.Strings(names)
	var groups []string
	for _, n := range names {
		c, _ := conns[n].(map[string]any)
		if str(c["direction"]) == "inbound" {
			continue
		}
		g := str(c["group_id"])
		if g == "" {
			name := str(c["name"])
			if name == "" {
				name = n
			}
			g = base + "." + name
		}
		groups = append(groups, g)
	}
	return groups
}
