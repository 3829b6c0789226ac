package helm

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// The promtool unit tests of the alerts: alerts/alerts_test.yaml, run on the rules the
// chart renders for values/monitoring.yaml (default thresholds).
const alertTests = "alerts/alerts_test.yaml"

// renderRules renders the PrometheusRule for the values files and writes its spec.groups
// as a Prometheus rule file to dir/rules.yaml (what the operator hands to Prometheus).
func renderRules(t *testing.T, dir string, files []string) (*monitoringv1.PrometheusRule, string) {
	t.Helper()
	stream, err := runHelm(templateArgs(env.chart, files, "--show-only", "templates/prometheusrule.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeStrict([]byte(stream))
	if err != nil {
		t.Fatalf("PrometheusRule does not decode strictly: %v", err)
	}
	pr := obj.(*monitoringv1.PrometheusRule)
	// Only the fields Prometheus's rule file knows: prometheus-operator's extras (e.g. the
	// partial_response_strategy of Thanos) would be refused by promtool.
	var groups []map[string]any
	for _, g := range pr.Spec.Groups {
		var rules []map[string]any
		for _, r := range g.Rules {
			rule := map[string]any{"alert": r.Alert, "expr": r.Expr.String(),
				"labels": r.Labels, "annotations": r.Annotations}
			if r.Record != "" {
				rule["record"] = r.Record
			}
			if r.For != nil {
				rule["for"] = string(*r.For)
			}
			if r.KeepFiringFor != nil {
				rule["keep_firing_for"] = string(*r.KeepFiringFor)
			}
			rules = append(rules, rule)
		}
		groups = append(groups, map[string]any{"name": g.Name, "rules": rules})
	}
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return pr, path
}

func promtool(dir string, args ...string) (string, error) {
	cmd := exec.Command(env.promtool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyAlertTests puts the promtool test file beside the rendered rules.yaml it names.
func copyAlertTests(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(alertTests)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.Base(alertTests))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every alert of the chart, with series that fire and series that do not, through
// Prometheus's own rule engine: promtool check rules, then promtool test rules.
func TestAlerts(t *testing.T) {
	dir := filepath.Join(env.out, "alerts")
	os.MkdirAll(dir, 0o755)
	pr, rules := renderRules(t, dir, []string{"values/monitoring.yaml"})
	if out, err := promtool(dir, "check", "rules", rules); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests := copyAlertTests(t, dir)
	out, err := promtool(dir, "test", "rules", tests)
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	t.Logf("promtool test rules:\n%s", out)

	// Each alert the chart renders has a case where it fires and one where it must not.
	var names []string
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule without an alert name", g.Name)
				continue
			}
			names = append(names, r.Alert)
			for _, m := range metricNames(r.Expr.String()) {
				if _, ok := metricContract[m]; !ok {
					t.Errorf("%s uses %s, which is not in the metrics contract", r.Alert, m)
				}
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a severity label and summary/description annotations", r.Alert)
			}
		}
	}
	sort.Strings(names)
	fires, quiet := alertCoverage(t, tests)
	for _, n := range names {
		if !fires[n] || !quiet[n] {
			t.Errorf("%s: %s needs a case where it fires (%v) and one where it does not (%v)",
				alertTests, n, fires[n], quiet[n])
		}
	}
	if len(names) < 12 {
		t.Errorf("only %d alerts rendered: %v", len(names), names)
	}
	t.Logf("%d alerts tested: %s", len(names), strings.Join(names, " "))
}

// The thresholds are the values: the same tests on rules rendered with every threshold
// moved must fail, for every alert. Otherwise a value could be ignored by the template.
func TestAlertThresholdsAreValues(t *testing.T) {
	dir := t.TempDir()
	moved := writeValues(t, dir, "moved", `
prometheusRule:
  alerts:
    lagGrowing: {minRecords: 100000}
    oldestUndelivered: {seconds: 100000}
    retentionHeadroom: {seconds: 3600}
    deadLetters: {for: 1h}
    deadLetterWriteFailures: {for: 1h}
    deadLetterReduced: {for: 1h}
    breakerOpen: {for: 1h}
    commitStalled: {for: 1h}
    inboundPublishFailures: {ratio: 0.5}
    inboundVerifyFailures: {ratio: 0.9}
    readinessFlapping: {changes: 10}
    notReady: {for: 1h}
`)
	pr, _ := renderRules(t, dir, []string{"values/monitoring.yaml", moved})
	out, err := promtool(dir, "test", "rules", copyAlertTests(t, dir))
	if err == nil {
		t.Fatalf("promtool test rules passed with every threshold moved:\n%s", out)
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(out, "alertname: "+r.Alert) {
				t.Errorf("moving the threshold of %s changed no test result", r.Alert)
			}
		}
	}

	// And with an alert disabled it is not rendered at all.
	off := writeValues(t, dir, "off", "prometheusRule: {alerts: {breakerOpen: {enabled: false}}}")
	pr, _ = renderRules(t, dir, []string{"values/monitoring.yaml", off})
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "WebhookBridgeBreakerOpen" {
				t.Errorf("breakerOpen.enabled=false still renders the alert")
			}
		}
	}
}

// alertCoverage reads the promtool test file: which alerts are expected to fire at some
// eval time, and which are expected silent (an empty exp_alerts) at another.
func alertCoverage(t *testing.T, path string) (fires, quiet map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `json:"alertname"`
				ExpAlerts []map[string]any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	fires, quiet = map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	return fires, quiet
}

var metricName = regexp.MustCompile(`\bwebhook_bridge_[a-z_]+\b`)

// metricNames: the bridge metrics an expression names, histogram series folded into their
// family (_bucket, _sum, _count).
func metricNames(expr string) []string {
	var out []string
	for _, m := range metricName.FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base := strings.TrimSuffix(m, suffix); base != m && metricContract[base] == "histogram" {
				m = base
			}
		}
		out = append(out, m)
	}
	return out
}
