// chartcheck - render the webhook-bridge Helm chart without helm or a cluster and assert the
// objects it produces.
//
//	chartcheck template [-f values.yaml ...] <chart>      print the rendered stream
//	chartcheck test -chart <dir> -values-all <file> [-bridge <webhook-bridge>] [-out <dir>]
//
// The test mode validates values files against values.schema.json, renders several value
// sets, asserts the objects, and runs `webhook-bridge check` on the rendered config when the
// binary supports it (SKIP otherwise).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: chartcheck template|test ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "template":
		os.Exit(cmdTemplate(os.Args[2:]))
	case "test":
		os.Exit(cmdTest(os.Args[2:]))
	}
	fmt.Fprintln(os.Stderr, "usage: chartcheck template|test ...")
	os.Exit(2)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func cmdTemplate(args []string) int {
	fs := flag.NewFlagSet("template", flag.ExitOnError)
	var files multiFlag
	fs.Var(&files, "f", "values file (repeatable)")
	release := fs.String("name", "release-name", "release name")
	ns := fs.String("namespace", "default", "namespace")
	fs.Parse(args)
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: chartcheck template [-f values.yaml] <chart>")
		return 2
	}
	var overrides []map[string]interface{}
	for _, f := range files {
		m, err := loadYAMLFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		overrides = append(overrides, m)
	}
	r, err := Render(fs.Arg(0), overrides, *release, *ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	var buf bytes.Buffer
	r.WriteStream(&buf, filepath.Base(fs.Arg(0)))
	os.Stdout.Write(buf.Bytes())
	return 0
}

// ------------------------------------------------------------------ test harness

type suite struct {
	failures int
	chart    string
	bridge   string
	out      string
}

func (s *suite) fail(scenario, format string, a ...interface{}) {
	s.failures++
	fmt.Printf("FAIL [%s] %s\n", scenario, fmt.Sprintf(format, a...))
}

func (s *suite) ok(scenario, what string) {
	fmt.Printf("ok   [%s] %s\n", scenario, what)
}

func yamlText(s string) map[string]interface{} {
	m, err := parseYAMLMap([]byte(s), "inline")
	if err != nil {
		panic(err)
	}
	return m
}

// get walks a path of map keys / list indexes through decoded YAML.
func get(v interface{}, path ...interface{}) interface{} {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]interface{})
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]interface{})
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v interface{}) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func list(v interface{}) []interface{} {
	l, _ := v.([]interface{})
	return l
}

func asMap(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}

// subset: every key/value of sel is in labels (and sel is not empty).
func subset(sel, labels map[string]interface{}) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if str(labels[k]) != str(v) {
			return false
		}
	}
	return true
}

func toFloat(v interface{}) float64 {
	switch t := v.(type) {
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case float64:
		return t
	}
	return -1
}

func cmdTest(args []string) int {
	fs := flag.NewFlagSet("test", flag.ExitOnError)
	chart := fs.String("chart", "", "chart directory")
	valuesAll := fs.String("values-all", "", "values file turning every option on")
	bridge := fs.String("bridge", "", "webhook-bridge binary for `check` (optional)")
	out := fs.String("out", "", "directory for rendered output (default: a temp dir)")
	fs.Parse(args)
	if *chart == "" || *valuesAll == "" {
		fmt.Fprintln(os.Stderr, "chartcheck test: -chart and -values-all are required")
		return 2
	}
	if *out == "" {
		d, err := os.MkdirTemp("", "chartcheck")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(d)
		*out = d
	}
	s := &suite{chart: *chart, bridge: *bridge, out: *out}
	all, err := loadYAMLFile(*valuesAll)
	if err != nil {
		fmt.Println("FAIL", err)
		return 1
	}

	s.testSchema(all)
	s.testReadme()

	def := s.scenario("default", nil)
	full := s.scenario("values-all", []map[string]interface{}{all})
	s.scenario("hpa", []map[string]interface{}{yamlText("autoscaling: {enabled: true}")})
	s.scenario("env-secret", []map[string]interface{}{all,
		yamlText("secrets: {mountAs: env}\nkeda: {enabled: false}")})
	s.scenario("existing-configmaps", []map[string]interface{}{yamlText(
		"config: {existingConfigMap: my-bridge, existingConnectorsConfigMap: my-connectors}\n" +
			"secrets: {existingSecret: my-secret, mountAs: files}")})

	// Both autoscalers at once is refused with a clear message.
	_, err = Render(*chart, []map[string]interface{}{yamlText(
		"autoscaling: {enabled: true}\nkeda: {enabled: true}")}, "rel", "ns")
	if err == nil || !strings.Contains(err.Error(), "exclusive") {
		s.fail("hpa+keda", "render should fail with 'exclusive', got %v", err)
	} else {
		s.ok("hpa+keda", "refused: exclusive")
	}

	// Connector names become file names: anything else is refused.
	_, err = Render(*chart, []map[string]interface{}{yamlText(
		"config: {connectors: {'../evil': {url: x}}}")}, "rel", "ns")
	if err == nil || !strings.Contains(err.Error(), "not a valid connector name") {
		s.fail("bad-connector-name", "render should refuse '../evil', got %v", err)
	} else {
		s.ok("bad-connector-name", "refused")
	}

	// checksum/config follows the config and only the config.
	if def != nil && full != nil {
		c0 := checksum(def)
		changed := s.render("config-changed", []map[string]interface{}{yamlText(
			"config: {bridge: {log: {level: debug}}}")})
		same := s.render("replicas-changed", []map[string]interface{}{yamlText("replicaCount: 5")})
		conn := s.render("connector-changed", []map[string]interface{}{yamlText(
			"config: {connectors: {acme: {url: 'https://acme.example/hooks'}}}")})
		switch {
		case c0 == "" || changed == nil || same == nil || conn == nil:
			s.fail("checksum", "renders failed or no checksum")
		case checksum(changed) == c0:
			s.fail("checksum", "unchanged after a bridge.yaml change")
		case checksum(conn) == c0:
			s.fail("checksum", "unchanged after a connector change")
		case checksum(same) != c0:
			s.fail("checksum", "changed although the config did not")
		default:
			s.ok("checksum", "changes with bridge.yaml and connectors, not with replicaCount")
		}
	}

	if s.failures > 0 {
		fmt.Printf("%d failure(s)\n", s.failures)
		return 1
	}
	fmt.Println("all chart checks passed")
	return 0
}

func (s *suite) render(name string, overrides []map[string]interface{}) *Rendered {
	r, err := Render(s.chart, overrides, "rel", "ns")
	if err != nil {
		s.fail(name, "render: %v", err)
		return nil
	}
	return r
}

func checksum(r *Rendered) string {
	for _, d := range r.Docs {
		if str(d.Obj["kind"]) == "Deployment" {
			return str(get(d.Obj, "spec", "template", "metadata", "annotations", "checksum/config"))
		}
	}
	return ""
}

// ------------------------------------------------------------------ schema + README

func (s *suite) loadSchema() map[string]interface{} {
	b, err := os.ReadFile(filepath.Join(s.chart, "values.schema.json"))
	if err != nil {
		s.fail("schema", "%v", err)
		return nil
	}
	var schema map[string]interface{}
	if err := json.Unmarshal(b, &schema); err != nil {
		s.fail("schema", "values.schema.json: %v", err)
		return nil
	}
	return schema
}

func (s *suite) validateMerged(schema map[string]interface{}, overrides ...map[string]interface{}) []string {
	base, err := loadYAMLFile(filepath.Join(s.chart, "values.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	for _, o := range overrides {
		base = mergeValues(base, deepCopyMap(o))
	}
	v, err := toJSONValue(base)
	if err != nil {
		return []string{err.Error()}
	}
	return Validate(schema, v)
}

func (s *suite) testSchema(all map[string]interface{}) {
	schema := s.loadSchema()
	if schema == nil {
		return
	}
	if errs := s.validateMerged(schema); len(errs) > 0 {
		s.fail("schema", "values.yaml: %s", strings.Join(errs, "; "))
	} else {
		s.ok("schema", "values.yaml valid")
	}
	if errs := s.validateMerged(schema, all); len(errs) > 0 {
		s.fail("schema", "values-all.yaml: %s", strings.Join(errs, "; "))
	} else {
		s.ok("schema", "values-all.yaml valid")
	}
	// The schema must reject mistakes, or the checks above prove nothing.
	bad := map[string]string{
		"replicaCount: two":                     "replicaCount",
		"replicaCount: -1":                      "minimum",
		"secrets: {mountAs: volume}":            "mountAs",
		"replicaCuont: 2":                       "replicaCuont",
		"image: {pullPolicy: Sometimes}":        "pullPolicy",
		"drainTimeoutSeconds: 0":                "drainTimeoutSeconds",
		"ingress: {hosts: [{paths: [{}]}]}":     "required",
		"config: {connectors: {acme: nope}}":    "acme",
		"networkPolicy: {egress: {enabled: 1}}": "enabled",
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		errs := s.validateMerged(schema, yamlText(k))
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, ";"), bad[k]) {
			s.fail("schema", "%q should be rejected mentioning %q, got %v", k, bad[k], errs)
		}
	}
	s.ok("schema", fmt.Sprintf("%d invalid values files rejected", len(bad)))
}

// valuePaths lists the documented keys of values.yaml: leaves, and free-form maps/lists.
func valuePaths(prefix string, m map[string]interface{}, out *[]string) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		sub, isMap := v.(map[string]interface{})
		// config.bridge and config.connectors are the bridge's own config, documented whole.
		if isMap && len(sub) > 0 && p != "config.bridge" && p != "resources" &&
			p != "podSecurityContext" && p != "securityContext" {
			valuePaths(p, sub, out)
			continue
		}
		*out = append(*out, p)
	}
}

func (s *suite) testReadme() {
	b, err := os.ReadFile(filepath.Join(s.chart, "README.md"))
	if err != nil {
		s.fail("readme", "%v", err)
		return
	}
	values, _ := loadYAMLFile(filepath.Join(s.chart, "values.yaml"))
	var paths []string
	valuePaths("", values, &paths)
	sort.Strings(paths)
	missing := 0
	for _, p := range paths {
		if !strings.Contains(string(b), "`"+p+"`") {
			s.fail("readme", "value `%s` is not documented in README.md", p)
			missing++
		}
	}
	if missing == 0 {
		s.ok("readme", fmt.Sprintf("all %d values documented", len(paths)))
	}
}

// ------------------------------------------------------------------ object assertions

func (s *suite) scenario(name string, overrides []map[string]interface{}) *Rendered {
	r := s.render(name, overrides)
	if r == nil {
		return nil
	}
	dir := filepath.Join(s.out, name)
	os.MkdirAll(dir, 0o755)
	var buf bytes.Buffer
	r.WriteStream(&buf, "webhook-bridge")
	os.WriteFile(filepath.Join(dir, "manifest.yaml"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "NOTES.txt"), []byte(r.Notes), 0o644)
	before := s.failures
	s.assertObjects(name, r)
	if s.failures == before {
		s.ok(name, fmt.Sprintf("%d documents rendered and asserted", len(r.Docs)))
	}
	s.checkBridgeConfig(name, r, dir)
	return r
}

func boolValue(v interface{}, path ...string) bool {
	var x interface{} = v
	for _, p := range path {
		x = get(x, p)
	}
	b, _ := x.(bool)
	return b
}

func (s *suite) assertObjects(sc string, r *Rendered) {
	v := r.Values
	byKind := map[string][]map[string]interface{}{}
	seen := map[string]bool{}
	for _, d := range r.Docs {
		kind, name := str(d.Obj["kind"]), str(get(d.Obj, "metadata", "name"))
		if str(d.Obj["apiVersion"]) == "" || kind == "" || name == "" {
			s.fail(sc, "%s: document without apiVersion/kind/metadata.name", d.Source)
			continue
		}
		if seen[kind+"/"+name] {
			s.fail(sc, "duplicate %s/%s", kind, name)
		}
		seen[kind+"/"+name] = true
		byKind[kind] = append(byKind[kind], d.Obj)
		labels := asMap(get(d.Obj, "metadata", "labels"))
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance",
			"app.kubernetes.io/managed-by", "helm.sh/chart"} {
			if str(labels[l]) == "" {
				s.fail(sc, "%s/%s lacks label %s", kind, name, l)
			}
		}
		if len(name) > 63 {
			s.fail(sc, "%s/%s: name longer than 63", kind, name)
		}
	}

	// Which kinds must be present (count) for these values.
	existingCM := str(get(v, "config", "existingConfigMap")) != ""
	existingConn := str(get(v, "config", "existingConnectorsConfigMap")) != ""
	cms := 2
	if existingCM {
		cms--
	}
	if existingConn {
		cms--
	}
	want := map[string]int{"Deployment": 1, "Service": 2, "ConfigMap": cms}
	cond := func(kind string, on bool) {
		if on {
			want[kind] = 1
		} else {
			want[kind] = 0
		}
	}
	cond("ServiceAccount", boolValue(v, "serviceAccount", "create"))
	cond("PodDisruptionBudget", boolValue(v, "podDisruptionBudget", "enabled"))
	cond("NetworkPolicy", boolValue(v, "networkPolicy", "enabled"))
	cond("Ingress", boolValue(v, "ingress", "enabled"))
	cond("HorizontalPodAutoscaler", boolValue(v, "autoscaling", "enabled"))
	cond("ScaledObject", boolValue(v, "keda", "enabled"))
	cond("ServiceMonitor", boolValue(v, "metrics", "serviceMonitor", "enabled"))
	for kind, n := range want {
		if len(byKind[kind]) != n {
			s.fail(sc, "want %d %s, got %d", n, kind, len(byKind[kind]))
		}
	}
	for kind := range byKind {
		if _, ok := want[kind]; !ok {
			s.fail(sc, "unexpected kind %s", kind)
		}
	}
	if len(byKind["Deployment"]) != 1 {
		return
	}
	dep := byKind["Deployment"][0]
	depName := str(get(dep, "metadata", "name"))
	pod := asMap(get(dep, "spec", "template"))
	podLabels := asMap(get(pod, "metadata", "labels"))
	podSpec := asMap(pod["spec"])
	sel := asMap(get(dep, "spec", "selector", "matchLabels"))
	if !subset(sel, podLabels) {
		s.fail(sc, "Deployment selector %v does not match pod labels %v", sel, podLabels)
	}
	scaled := boolValue(v, "autoscaling", "enabled") || boolValue(v, "keda", "enabled")
	if _, has := asMap(dep["spec"])["replicas"]; has == scaled {
		s.fail(sc, "spec.replicas present=%v with autoscaling=%v", has, scaled)
	}

	containers := list(podSpec["containers"])
	if len(containers) != 1 {
		s.fail(sc, "want 1 container, got %d", len(containers))
		return
	}
	c := asMap(containers[0])
	ports := map[string]float64{}
	for _, p := range list(c["ports"]) {
		ports[str(get(p, "name"))] = toFloat(get(p, "containerPort"))
	}

	// Probes on named ports that exist: /healthz and /readyz on the admin port.
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		port := str(get(c, probe, "httpGet", "port"))
		if _, ok := ports[port]; !ok {
			s.fail(sc, "%s points at port %q which the container does not declare", probe, port)
		}
		if port != "admin" || ports[port] != toFloat(get(v, "ports", "admin")) {
			s.fail(sc, "%s is not on the admin port", probe)
		}
		if got := str(get(c, probe, "httpGet", "path")); got != path {
			s.fail(sc, "%s path %q, want %q", probe, got, path)
		}
	}

	// Services select the pods and target declared ports.
	svcPorts := map[string]map[string]bool{}
	for _, svc := range byKind["Service"] {
		name := str(get(svc, "metadata", "name"))
		if !subset(asMap(get(svc, "spec", "selector")), podLabels) {
			s.fail(sc, "Service %s selector does not match the pods", name)
		}
		svcPorts[name] = map[string]bool{}
		for _, p := range list(get(svc, "spec", "ports")) {
			tp := str(get(p, "targetPort"))
			if _, ok := ports[tp]; !ok {
				s.fail(sc, "Service %s targets port %q the container lacks", name, tp)
			}
			svcPorts[name][str(get(p, "name"))] = true
		}
	}
	if !svcPorts[depName]["inbound"] || !svcPorts[depName+"-metrics"]["admin"] {
		s.fail(sc, "want Service %s (inbound) and %s-metrics (admin), got %v", depName, depName, svcPorts)
	}
	if toFloat(ports["inbound"]) != toFloat(get(v, "ports", "inbound")) {
		s.fail(sc, "inbound container port %v != ports.inbound", ports["inbound"])
	}

	// Other selectors.
	for _, pdb := range byKind["PodDisruptionBudget"] {
		if !subset(asMap(get(pdb, "spec", "selector", "matchLabels")), podLabels) {
			s.fail(sc, "PodDisruptionBudget selector does not match the pods")
		}
	}
	for _, np := range byKind["NetworkPolicy"] {
		if !subset(asMap(get(np, "spec", "podSelector", "matchLabels")), podLabels) {
			s.fail(sc, "NetworkPolicy podSelector does not match the pods")
		}
		for _, rule := range list(get(np, "spec", "ingress")) {
			for _, p := range list(get(rule, "ports")) {
				if _, ok := ports[str(get(p, "port"))]; !ok {
					s.fail(sc, "NetworkPolicy allows unknown port %v", get(p, "port"))
				}
			}
		}
	}
	for _, tsc := range list(podSpec["topologySpreadConstraints"]) {
		if !subset(asMap(get(tsc, "labelSelector", "matchLabels")), podLabels) {
			s.fail(sc, "topologySpreadConstraint selector does not match the pods")
		}
	}
	if boolValue(v, "topologySpread", "enabled") && len(list(podSpec["topologySpreadConstraints"])) == 0 {
		s.fail(sc, "topologySpread enabled but no constraints")
	}
	for _, kind := range []string{"HorizontalPodAutoscaler", "ScaledObject"} {
		for _, o := range byKind[kind] {
			if str(get(o, "spec", "scaleTargetRef", "name")) != depName ||
				str(get(o, "spec", "scaleTargetRef", "kind")) != "Deployment" {
				s.fail(sc, "%s does not target the Deployment", kind)
			}
		}
	}
	for _, so := range byKind["ScaledObject"] {
		t := get(so, "spec", "triggers", 0)
		if str(get(t, "type")) != "kafka" || str(get(t, "metadata", "consumerGroup")) == "" {
			s.fail(sc, "ScaledObject has no kafka lag trigger")
		}
	}
	for _, ing := range byKind["Ingress"] {
		for _, rule := range list(get(ing, "spec", "rules")) {
			for _, p := range list(get(rule, "http", "paths")) {
				svc := str(get(p, "backend", "service", "name"))
				port := str(get(p, "backend", "service", "port", "name"))
				if !svcPorts[svc][port] {
					s.fail(sc, "Ingress backend %s:%s is not a rendered Service port", svc, port)
				}
			}
		}
	}
	for _, sm := range byKind["ServiceMonitor"] {
		smSel := asMap(get(sm, "spec", "selector", "matchLabels"))
		matched := 0
		for _, svc := range byKind["Service"] {
			if subset(smSel, asMap(get(svc, "metadata", "labels"))) {
				matched++
				if !svcPorts[str(get(svc, "metadata", "name"))][str(get(sm, "spec", "endpoints", 0, "port"))] {
					s.fail(sc, "ServiceMonitor endpoint port is not on the Service")
				}
			}
		}
		if matched != 1 {
			s.fail(sc, "ServiceMonitor selects %d Services, want exactly the metrics one", matched)
		}
	}

	// Secret references name existingSecret, and only when it is set.
	secret := str(get(v, "secrets", "existingSecret"))
	mountAs := str(get(v, "secrets", "mountAs"))
	var secretRefs []string
	for _, ef := range list(c["envFrom"]) {
		if n := str(get(ef, "secretRef", "name")); n != "" {
			secretRefs = append(secretRefs, "env:"+n)
		}
	}
	for _, e := range list(c["env"]) {
		if n := str(get(e, "valueFrom", "secretKeyRef", "name")); n != "" && n != secret {
			s.fail(sc, "env %v references Secret %q, not existingSecret", get(e, "name"), n)
		}
	}
	volumes := map[string]map[string]interface{}{}
	for _, vol := range list(podSpec["volumes"]) {
		volumes[str(get(vol, "name"))] = asMap(vol)
		if n := str(get(vol, "secret", "secretName")); n != "" {
			secretRefs = append(secretRefs, "files:"+n)
		}
	}
	switch {
	case secret == "" && len(secretRefs) != 0:
		s.fail(sc, "secret references %v without existingSecret", secretRefs)
	case secret != "" && (len(secretRefs) != 1 || secretRefs[0] != mountAs+":"+secret):
		s.fail(sc, "secret references %v, want exactly %s:%s", secretRefs, mountAs, secret)
	}

	// Mounts: every volume mount names a volume; config paths where the bridge reads them.
	mounts := map[string]string{}
	for _, m := range list(c["volumeMounts"]) {
		name := str(get(m, "name"))
		if volumes[name] == nil {
			s.fail(sc, "volumeMount %s has no volume", name)
		}
		mounts[str(get(m, "mountPath"))] = name
	}
	for path, vol := range map[string]string{"/etc/webhook-bridge/bridge.yaml": "config",
		"/etc/webhook-bridge/connectors": "connectors", "/tmp": "tmp"} {
		if mounts[path] != vol {
			s.fail(sc, "%s is not mounted from volume %s (mounts %v)", path, vol, mounts)
		}
	}
	if secret != "" && mountAs == "files" && mounts["/etc/webhook-bridge/secrets"] == "" {
		s.fail(sc, "secrets not mounted at /etc/webhook-bridge/secrets")
	}
	if volumes["tmp"] == nil || volumes["tmp"]["emptyDir"] == nil {
		s.fail(sc, "/tmp is not an emptyDir")
	}
	cmNames := map[string]bool{}
	for _, cm := range byKind["ConfigMap"] {
		cmNames[str(get(cm, "metadata", "name"))] = true
	}
	wantCM := map[string]string{"config": str(get(v, "config", "existingConfigMap")),
		"connectors": str(get(v, "config", "existingConnectorsConfigMap"))}
	for vol, existing := range wantCM {
		ref := str(get(volumes[vol], "configMap", "name"))
		if existing != "" && ref != existing {
			s.fail(sc, "volume %s uses ConfigMap %q, want existing %q", vol, ref, existing)
		}
		if existing == "" && !cmNames[ref] {
			s.fail(sc, "volume %s uses ConfigMap %q which is not rendered", vol, ref)
		}
	}

	// Restricted security context.
	psc := asMap(podSpec["securityContext"])
	csc := asMap(c["securityContext"])
	if psc["runAsNonRoot"] != true || str(get(psc, "seccompProfile", "type")) != "RuntimeDefault" {
		s.fail(sc, "pod securityContext not restricted: %v", psc)
	}
	if toFloat(psc["runAsUser"]) == 0 || toFloat(csc["runAsUser"]) == 0 {
		s.fail(sc, "runs as root")
	}
	if csc["allowPrivilegeEscalation"] != false || csc["readOnlyRootFilesystem"] != true ||
		csc["privileged"] == true {
		s.fail(sc, "container securityContext not restricted: %v", csc)
	}
	drop := false
	for _, d := range list(get(csc, "capabilities", "drop")) {
		if str(d) == "ALL" {
			drop = true
		}
	}
	if !drop || len(list(get(csc, "capabilities", "add"))) > 0 {
		s.fail(sc, "capabilities must drop ALL and add none")
	}
	if podSpec["hostNetwork"] == true || podSpec["hostPID"] == true {
		s.fail(sc, "host namespaces used")
	}

	// Grace period outlives the drain, and the bridge is told the same drain.
	drain := toFloat(v["drainTimeoutSeconds"])
	grace := toFloat(podSpec["terminationGracePeriodSeconds"])
	if !(grace > drain) {
		s.fail(sc, "terminationGracePeriodSeconds %v not > drain %v", grace, drain)
	}
	cs := str(get(pod, "metadata", "annotations", "checksum/config"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(cs) {
		s.fail(sc, "checksum/config annotation %q is not a sha256", cs)
	}
	if !strings.Contains(r.Notes, depName) {
		s.fail(sc, "NOTES.txt does not name the release objects")
	}
}

// ------------------------------------------------------------------ bridge config

// checkBridgeConfig pulls bridge.yaml and connectors from the ConfigMaps, asserts the keys
// the chart owns, writes them under dir with /etc/webhook-bridge/ rewritten to dir, and runs
// `webhook-bridge check -c` on them when the binary supports it.
func (s *suite) checkBridgeConfig(sc string, r *Rendered, dir string) {
	var bridgeYAML string
	connectors := map[string]string{}
	for _, d := range r.Docs {
		if str(d.Obj["kind"]) != "ConfigMap" {
			continue
		}
		for k, val := range asMap(d.Obj["data"]) {
			if k == "bridge.yaml" {
				bridgeYAML = str(val)
			} else {
				connectors[k] = str(val)
			}
		}
	}
	if bridgeYAML == "" {
		if str(get(r.Values, "config", "existingConfigMap")) == "" {
			s.fail(sc, "no bridge.yaml rendered")
		}
		return
	}
	cfg, err := parseYAMLMap([]byte(bridgeYAML), "bridge.yaml")
	if err != nil {
		s.fail(sc, "bridge.yaml: %v", err)
		return
	}
	checks := map[string]string{
		"connectors":             "/etc/webhook-bridge/connectors/",
		"admin.listen":           fmt.Sprintf("0.0.0.0:%v", get(r.Values, "ports", "admin")),
		"inbound.listen":         fmt.Sprintf("0.0.0.0:%v", get(r.Values, "ports", "inbound")),
		"outbound.drain_timeout": fmt.Sprintf("%vs", r.Values["drainTimeoutSeconds"]),
	}
	for path, want := range checks {
		var x interface{} = cfg
		for _, p := range strings.Split(path, ".") {
			x = get(x, p)
		}
		if str(x) != want {
			s.fail(sc, "bridge.yaml %s = %q, want %q", path, str(x), want)
		}
	}
	for name, text := range connectors {
		if !strings.HasSuffix(name, ".yaml") {
			s.fail(sc, "connector key %s does not end in .yaml", name)
		}
		if _, err := parseYAMLMap([]byte(text), name); err != nil {
			s.fail(sc, "connector %s: %v", name, err)
		}
	}

	// Lay the files out like the pod sees them, under dir.
	root := filepath.Join(dir, "etc")
	os.MkdirAll(filepath.Join(root, "connectors"), 0o755)
	os.MkdirAll(filepath.Join(root, "secrets"), 0o755)
	rewrite := func(t string) string { return strings.ReplaceAll(t, "/etc/webhook-bridge/", root+"/") }
	env := os.Environ()
	fileRef := regexp.MustCompile(`file:(` + regexp.QuoteMeta(root) + `/secrets/[A-Za-z0-9._-]+)`)
	envRef := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	// A well-formed Standard Webhooks secret (whsec_ + base64 of 32 bytes) for every reference.
	const dummySecret = "whsec_dGVzdC1zZWNyZXQtdGhhdC1pcy0zMi1ieXRlcyE="
	prepare := func(t string) string {
		t = rewrite(t)
		for _, m := range fileRef.FindAllStringSubmatch(t, -1) {
			os.WriteFile(m[1], []byte(dummySecret), 0o600)
		}
		for _, m := range envRef.FindAllStringSubmatch(t, -1) {
			env = append(env, m[1]+"="+dummySecret)
		}
		return t
	}
	cfgPath := filepath.Join(root, "bridge.yaml")
	os.WriteFile(cfgPath, []byte(prepare(bridgeYAML)), 0o644)
	for name, text := range connectors {
		os.WriteFile(filepath.Join(root, "connectors", name), []byte(prepare(text)), 0o644)
	}

	if s.bridge == "" {
		fmt.Printf("SKIP [%s] webhook-bridge check: no binary given\n", sc)
		return
	}
	probe := exec.Command(s.bridge, "check", "--help")
	probe.Stdout, probe.Stderr = nil, nil
	if probe.Run() != nil {
		fmt.Printf("SKIP [%s] webhook-bridge check: this build has no `check` command yet\n", sc)
		return
	}
	cmd := exec.Command(s.bridge, "check", "-c", cfgPath)
	cmd.Env = env
	outb, err := cmd.CombinedOutput()
	if err != nil {
		s.fail(sc, "webhook-bridge check -c %s: %v\n%s", cfgPath, err, outb)
		return
	}
	s.ok(sc, "webhook-bridge check passes on the rendered config")
}
