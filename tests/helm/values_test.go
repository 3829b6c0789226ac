package helm

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// helm lint --strict on every scenario's values (warnings are errors), at the Kubernetes
// version the objects are decoded for and at the chart's lowest supported one.
func TestLint(t *testing.T) {
	for _, sc := range scenarios {
		for _, kv := range []string{kubeVersion, kubeVersionMin} {
			t.Run(sc.name+"/"+kv, func(t *testing.T) {
				args := []string{"lint", "--strict", env.chart, "--namespace", namespace, "--kube-version", kv}
				for _, f := range sc.files {
					args = append(args, "-f", f)
				}
				out, err := runHelm(args...)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
					t.Fatalf("unexpected lint output:\n%s", out)
				}
			})
		}
	}
}

// values.schema.json, as helm applies it, refuses mistakes: each bad values file fails
// `helm template` with a message naming the value at fault.
func TestSchemaRejects(t *testing.T) {
	bad := map[string]string{
		"replicaCount: two":                     "/replicaCount",
		"replicaCount: -1":                      "/replicaCount",
		"secrets: {mountAs: volume}":            "/secrets/mountAs",
		"replicaCuont: 2":                       "replicaCuont",
		"image: {pullPolicy: Sometimes}":        "/image/pullPolicy",
		"drainTimeoutSeconds: 0":                "/drainTimeoutSeconds",
		"ingress: {hosts: [{paths: [{}]}]}":     "/ingress/hosts/0",
		"config: {connectors: {acme: nope}}":    "/config/connectors/acme",
		"networkPolicy: {egress: {enabled: 1}}": "/networkPolicy/egress/enabled",
		// The operator's values.
		"prometheusRule: {alerts: {lagGrowng: {for: 5m}}}":                          "lagGrowng",
		"prometheusRule: {alerts: {breakerOpen: {for: 5 minutes}}}":                 "/prometheusRule/alerts/breakerOpen/for",
		"prometheusRule: {alerts: {inboundPublishFailures: {ratio: 2}}}":            "/prometheusRule/alerts/inboundPublishFailures/ratio",
		"prometheusRule: {alerts: {oldestUndelivered: {seconds: 0}}}":               "/prometheusRule/alerts/oldestUndelivered/seconds",
		"grafanaDashboard: {enabled: yes please}":                                   "/grafanaDashboard/enabled",
		"replay: {enabled: true, from: '2024-05-01T00:00:00Z'}":                     "/replay/connector",
		"replay: {enabled: true, connector: acme, from: yesterday}":                 "/replay/from",
		"replay: {connector: acme, from: '2024-05-01T00:00:00Z', backoffLimit: -1}": "/replay/backoffLimit",
		"redrive: {since: last week}":                                               "/redrive/since",
		"redrive: {connector: '../x'}":                                              "/redrive/connector",
		"admin: {token: s3cret}":                                                    "token",
		"outbound: {loops: -1}":                                                     "/outbound/loops",
		"outbound: {fetchBuffer: lots}":                                             "/outbound/fetchBuffer",
		"config: {connectors: {acme: {start: yesterday}}}":                          "/config/connectors/acme/start",
		"config: {connectors: {acme: {paused: maybe}}}":                             "/config/connectors/acme/paused",
		"config: {connectors: {acme: {topics: []}}}":                                "/config/connectors/acme/topics",
	}
	keys := make([]string, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dir := t.TempDir()
	for i, k := range keys {
		f := writeValues(t, dir, "bad"+string(rune('a'+i%26))+strings.Repeat("x", i/26), k)
		_, err := runHelm(templateArgs(env.chart, []string{f})...)
		if err == nil {
			t.Errorf("%q: accepted, want refused naming %q", k, bad[k])
			continue
		}
		if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") ||
			!strings.Contains(err.Error(), bad[k]) {
			t.Errorf("%q: want a schema error naming %q, got %v", k, bad[k], err)
		}
	}
	t.Logf("%d invalid values files refused", len(bad))
}

// Refusals the templates make themselves, with a message saying what to do.
func TestTemplateRefusals(t *testing.T) {
	cases := map[string]string{
		"autoscaling: {enabled: true}\nkeda: {enabled: true, consumerGroup: g}": "exclusive",
		"keda: {enabled: true}": "no outbound connector in config.connectors to scale on",
		"keda: {enabled: true}\nconfig: {existingConnectorsConfigMap: c}":                     "keda.consumerGroup is required with config.existingConnectorsConfigMap",
		"config: {connectors: {'../evil': {url: x}}}":                                         "not a valid connector name",
		"admin: {tokenSecretKey: admin-token}":                                                "admin.tokenSecretKey needs secrets.existingSecret",
		"redrive: {enabled: true}\nsecrets: {existingSecret: s}\nadmin: {tokenSecretKey: ''}": "",
	}
	dir := t.TempDir()
	i := 0
	for values, want := range cases {
		i++
		f := writeValues(t, dir, "refuse"+string(rune('a'+i)), values)
		_, err := runHelm(templateArgs(env.chart, []string{f})...)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: refused: %v", values, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: want refused with %q, got %v", values, want, err)
		}
	}
}

// valuePaths lists the documented keys of values.yaml: leaves, and free-form maps/lists.
func valuePaths(prefix string, m map[string]any, out *[]string) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		sub, isMap := v.(map[string]any)
		// config.bridge is the bridge's own config, documented whole; the security contexts
		// and resources are Kubernetes objects passed through.
		if isMap && len(sub) > 0 && p != "config.bridge" && p != "resources" &&
			p != "podSecurityContext" && p != "securityContext" {
			valuePaths(p, sub, out)
			continue
		}
		*out = append(*out, p)
	}
}

// Every value of values.yaml has a row in the chart's README.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(env.chart, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	values, err := loadYAML(filepath.Join(env.chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	valuePaths("", values, &paths)
	sort.Strings(paths)
	for _, p := range paths {
		if !strings.Contains(string(b), "| `"+p+"` |") {
			t.Errorf("value `%s` has no row in README.md", p)
		}
	}
	t.Logf("%d values documented", len(paths))
}

// checksum/config follows the config and only the config.
func TestChecksum(t *testing.T) {
	dir := t.TempDir()
	sum := func(values string) string {
		t.Helper()
		var files []string
		if values != "" {
			files = []string{writeValues(t, dir, "v", values)}
		}
		stream, err := runHelm(templateArgs(env.chart, files, "--show-only", "templates/deployment.yaml")...)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := decodeStrict([]byte(stream))
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*appsv1.Deployment).Spec.Template.Annotations["checksum/config"]
	}
	c0 := sum("")
	for values, changes := range map[string]bool{
		"config: {bridge: {log: {level: debug}}}":                             true,
		"config: {connectors: {acme: {url: 'https://acme.example/'}}}":        true,
		"outbound: {loops: 3}":                                                true,
		"replicaCount: 5":                                                     false,
		"prometheusRule: {enabled: true}":                                     false,
		"replay: {enabled: true, connector: a, from: '2024-05-01T00:00:00Z'}": false,
	} {
		if got := sum(values) != c0; got != changes {
			t.Errorf("%q: checksum changed=%v, want %v", values, got, changes)
		}
	}
}

// NOTES.txt, rendered by helm itself: `helm template` skips it and `helm install --dry-run`
// wants a cluster, so a copy of the chart wraps the same text in a define and renders it
// into a ConfigMap. It must name the release's objects, the ingress URL when there is one,
// and warn when no Secret is configured.
func TestNotes(t *testing.T) {
	chart := copyChart(t)
	notes, err := os.ReadFile(filepath.Join(chart, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wrap := "{{- define \"test.notes\" -}}\n" + string(notes) + "\n{{- end }}\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n" +
		"  notes: {{ include \"test.notes\" . | toJson }}\n"
	for name, text := range map[string]string{"_test_notes.tpl": wrap, "test-notes.yaml": cm} {
		if err := os.WriteFile(filepath.Join(chart, "templates", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	render := func(files []string) string {
		t.Helper()
		stream, err := runHelm(templateArgs(chart, files, "--show-only", "templates/test-notes.yaml")...)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := decodeStrict([]byte(stream))
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*corev1.ConfigMap).Data["notes"]
	}
	def := render(nil)
	for _, want := range []string{"rel-webhook-bridge", "svc/rel-webhook-bridge-metrics", "/readyz",
		"WARNING: secrets.existingSecret is empty"} {
		if !strings.Contains(def, want) {
			t.Errorf("default NOTES lack %q:\n%s", want, def)
		}
	}
	all := render([]string{"values-all.yaml"})
	for _, want := range []string{"orders-webhook-bridge", "https://webhooks.example.com/webhooks/<connector>",
		"set replay.enabled=false", "app.kubernetes.io/component=redrive"} {
		if !strings.Contains(all, want) {
			t.Errorf("values-all NOTES lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(def, "Job runs once") {
		t.Errorf("default NOTES mention a Job:\n%s", def)
	}
	if strings.Contains(all, "WARNING") {
		t.Errorf("values-all NOTES warn although existingSecret is set:\n%s", all)
	}
}
