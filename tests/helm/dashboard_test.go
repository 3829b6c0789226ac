package helm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

type panel struct {
	ID      int     `json:"id"`
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// The dashboard ConfigMap carries the sidecar's label and valid JSON; every panel's query
// names metrics of the contract, filters on the connector variable where the metric has
// one, and parses as PromQL (promtool check rules on a rule file made of the queries).
func TestDashboard(t *testing.T) {
	stream, err := runHelm(templateArgs(env.chart, []string{"values/monitoring.yaml"},
		"--show-only", "templates/dashboard-configmap.yaml")...)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeStrict([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	cm := obj.(*corev1.ConfigMap)
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v lack grafana_dashboard: \"1\"", cm.Labels)
	}
	text, ok := cm.Data["webhook-bridge.json"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("want one key webhook-bridge.json, got %d keys", len(cm.Data))
	}
	// The rendered JSON is the chart's file, byte for byte (nindent/trim lose nothing).
	file, err := os.ReadFile(filepath.Join(env.chart, "dashboards", "webhook-bridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(text) != strings.TrimSpace(string(file)) {
		t.Errorf("the ConfigMap's JSON differs from dashboards/webhook-bridge.json")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard without uid or title")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		q, _ := json.Marshal(v.Query)
		for _, m := range metricNames(string(q)) {
			if _, ok := metricContract[m]; !ok {
				t.Errorf("variable %s queries %s, not in the metrics contract", v.Name, m)
			}
		}
	}
	for _, want := range []string{"datasource", "namespace", "connector"} {
		if !vars[want] {
			t.Errorf("dashboard has no $%s variable", want)
		}
	}

	// Every query as a recording rule, Grafana's variables replaced by what they expand to.
	expand := strings.NewReplacer("$__rate_interval", "5m", "$connector", ".*", "$namespace", ".*")
	var rules []map[string]any
	seen := map[string]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if seen[fmt.Sprint(p.ID)] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			seen[fmt.Sprint(p.ID)] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				names := metricNames(tg.Expr)
				if len(names) == 0 {
					t.Errorf("panel %q: %q names no bridge metric", p.Title, tg.Expr)
				}
				for _, m := range names {
					if _, ok := metricContract[m]; !ok {
						t.Errorf("panel %q: %s is not in the metrics contract", p.Title, m)
					}
				}
				if connectorMetric(names) && !strings.Contains(tg.Expr, `connector=~"$connector"`) {
					t.Errorf("panel %q: %q ignores the $connector variable", p.Title, tg.Expr)
				}
				rules = append(rules, map[string]any{
					"record": fmt.Sprintf("dashboard:panel%d:%s", p.ID, tg.RefID),
					"expr":   expand.Replace(tg.Expr)})
			}
		}
	}
	walk(d.Panels)
	for _, need := range []string{"webhook_bridge_deliveries_total", "webhook_bridge_delivery_latency_seconds",
		"webhook_bridge_connector_lag_records", "webhook_bridge_circuit_state"} {
		found := false
		for _, r := range rules {
			for _, m := range metricNames(r["expr"].(string)) {
				found = found || m == need
			}
		}
		if !found {
			t.Errorf("no panel shows %s", need)
		}
	}
	dir := t.TempDir()
	b, _ := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	p := filepath.Join(dir, "dashboard-rules.yaml")
	os.WriteFile(p, b, 0o644)
	if out, err := promtool(dir, "check", "rules", p); err != nil {
		t.Fatalf("a dashboard query is not valid PromQL: %v\n%s", err, out)
	}
	t.Logf("%d panel queries checked", len(rules))
}

// connectorMetric: the query reads a per-connector series (all but the process-wide ones).
func connectorMetric(names []string) bool {
	processWide := map[string]bool{"webhook_bridge_dead_letter_write_failures_total": true,
		"webhook_bridge_ready": true, "webhook_bridge_inbound_publish_seconds": true,
		"webhook_bridge_inbound_duplicates_total": true, "webhook_bridge_build_info": true,
		"webhook_bridge_start_time_seconds": true, "webhook_bridge_fatal_errors_total": true}
	for _, n := range names {
		if !processWide[n] {
			return true
		}
	}
	return false
}
