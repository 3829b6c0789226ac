// Package helm tests the webhook-bridge chart with the real Helm: `helm lint --strict`,
// `helm template` over several values files, every rendered document decoded strictly into
// the Kubernetes API types (k8s.io/api, prometheus-operator's monitoring/v1, KEDA's
// v1alpha1), assertions on the objects, `webhook-bridge check` on the rendered config,
// `promtool test rules` on the rendered alerts and a check of the Grafana dashboard.
//
// Run by CTest (tests/helm/CMakeLists.txt) through run.sh, or by hand:
//
//	cd tests/helm && eval "$(./helm.sh --go-env | sed 's/^/export /')" && \
//	  WB_HELM=$(./helm.sh) WB_BRIDGE=../../build/webhook-bridge $GO test -v ./...
//
// Environment: WB_HELM (helm binary), WB_CHART (chart dir, default ../../helm/webhook-bridge),
// WB_BRIDGE (webhook-bridge binary, default ../../build/webhook-bridge), WB_PROMTOOL
// (default promtool on PATH), WB_OUT (where rendered files are kept, default a temp dir).
// Every tool is required: a missing one fails the test, it never skips.
package helm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// kubeVersion is passed to lint and template: a `go install` build of helm has no default
// Kubernetes version. It matches the k8s.io/api release the objects are decoded with.
const kubeVersion = "1.37.0"

// The chart's lowest supported version (Chart.yaml kubeVersion) is linted too.
const kubeVersionMin = "1.25.0"

const (
	releaseName = "rel"
	namespace   = "ns"
)

var env struct {
	helm, chart, bridge, promtool, out string
}

func TestMain(m *testing.M) {
	env.helm = os.Getenv("WB_HELM")
	env.chart = envOr("WB_CHART", "../../helm/webhook-bridge")
	env.bridge = envOr("WB_BRIDGE", "../../build/webhook-bridge")
	env.promtool = os.Getenv("WB_PROMTOOL")
	if env.promtool == "" {
		env.promtool, _ = exec.LookPath("promtool")
	}
	var missing []string
	for what, path := range map[string]string{"WB_HELM (helm, see helm.sh)": env.helm,
		"WB_BRIDGE (webhook-bridge)":                        env.bridge,
		"WB_PROMTOOL (promtool, Debian package prometheus)": env.promtool} {
		if path == "" {
			missing = append(missing, what+": not set")
		} else if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
			missing = append(missing, fmt.Sprintf("%s: %s is not an executable", what, path))
		}
	}
	if st, err := os.Stat(filepath.Join(env.chart, "Chart.yaml")); err != nil || st.IsDir() {
		missing = append(missing, "WB_CHART: no Chart.yaml in "+env.chart)
	}
	if len(missing) > 0 {
		// A missing tool fails the suite: a test that cannot run must not pass.
		fmt.Fprintln(os.Stderr, "FAIL: the chart tests need:\n  "+strings.Join(missing, "\n  "))
		os.Exit(1)
	}
	env.out = os.Getenv("WB_OUT")
	if env.out == "" {
		d, err := os.MkdirTemp("", "chart-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
		env.out = d
	}
	code := m.Run()
	os.Exit(code)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// ------------------------------------------------------------------ running helm

// runHelm runs helm with args and returns stdout; stderr is folded into the error.
func runHelm(args ...string) (string, error) {
	cmd := exec.Command(env.helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err,
			stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// templateArgs: `helm template` of chart with the values files, as release rel in ns.
func templateArgs(chart string, files []string, extra ...string) []string {
	args := []string{"template", releaseName, chart, "--namespace", namespace,
		"--kube-version", kubeVersion}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	return append(args, extra...)
}

// writeValues writes inline YAML to a values file under dir and returns its path.
func writeValues(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ------------------------------------------------------------------ rendered documents

type doc struct {
	source  string // the template, from helm's "# Source:" line
	raw     []byte
	kind    string
	name    string
	generic map[string]any
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: (\S+)`)
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitStream cuts helm's output into documents, dropping empty ones.
func splitStream(stream string) ([]doc, error) {
	var docs []doc
	for _, part := range docSeparator.Split(stream, -1) {
		if strings.TrimSpace(stripComments(part)) == "" {
			continue
		}
		d := doc{raw: []byte(part)}
		if m := sourceLine.FindStringSubmatch(part); m != nil {
			d.source = m[1]
		}
		if err := yaml.Unmarshal(d.raw, &d.generic); err != nil {
			return nil, fmt.Errorf("%s: not YAML: %v", d.source, err)
		}
		d.kind, _ = d.generic["kind"].(string)
		if md, ok := d.generic["metadata"].(map[string]any); ok {
			d.name, _ = md["name"].(string)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// ------------------------------------------------------------------ values

// loadYAML reads a YAML file into a generic map.
func loadYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// mergeValues overlays src on dst the way helm coalesces values files (maps merge, anything
// else replaces; null deletes).
func mergeValues(dst, src map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if v == nil {
			delete(out, k)
			continue
		}
		sm, sok := v.(map[string]any)
		dm, dok := out[k].(map[string]any)
		if sok && dok {
			out[k] = mergeValues(dm, sm)
		} else {
			out[k] = v
		}
	}
	return out
}

// mergedValues: the chart's values.yaml with the files on top.
func mergedValues(t *testing.T, files []string) map[string]any {
	t.Helper()
	v, err := loadYAML(filepath.Join(env.chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		o, err := loadYAML(f)
		if err != nil {
			t.Fatal(err)
		}
		v = mergeValues(v, o)
	}
	return v
}

// get walks map keys / list indexes through decoded YAML.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func truthy(v any) bool {
	b, _ := v.(bool)
	return b
}
