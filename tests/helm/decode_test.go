package helm

import (
	"fmt"
	"os"
	"path/filepath"
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
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The API groups the chart may render. A kind outside them (or a misspelled apiVersion)
// does not decode, so it fails like an unknown field does.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme,
		batchv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
		autoscalingv2.AddToScheme, monitoringv1.AddToScheme, kedav1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// The API server's own strict decoding: unknown fields, duplicate fields and fields in the
// wrong case are errors (sigs.k8s.io/json, case-sensitive), as is a value of the wrong type.
var strictDecoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Yaml: true, Strict: true})

// decodeStrict decodes one rendered document into its typed object, or fails.
func decodeStrict(raw []byte) (runtime.Object, error) {
	obj, gvk, err := strictDecoder.Decode(raw, nil, nil)
	if err != nil {
		// A strict decoding error still returns the object: it is an error all the same.
		return nil, err
	}
	if gvk == nil || gvk.Kind == "" {
		return nil, fmt.Errorf("no kind")
	}
	return obj, nil
}

// checkMeta applies the API server's name and label rules, which decoding does not.
func checkMeta(kind string, m metav1.Object) []string {
	var errs []string
	name := m.GetName()
	// Services and Jobs (whose name becomes a pod label) are DNS labels; the rest subdomains.
	var msgs []string
	switch kind {
	case "Service", "Job":
		msgs = validation.IsDNS1123Label(name)
	default:
		msgs = validation.IsDNS1123Subdomain(name)
	}
	for _, e := range msgs {
		errs = append(errs, fmt.Sprintf("%s %q: name: %s", kind, name, e))
	}
	for _, labels := range []map[string]string{m.GetLabels()} {
		for k, v := range labels {
			for _, e := range validation.IsQualifiedName(k) {
				errs = append(errs, fmt.Sprintf("%s %q: label key %q: %s", kind, name, k, e))
			}
			for _, e := range validation.IsValidLabelValue(v) {
				errs = append(errs, fmt.Sprintf("%s %q: label %s=%q: %s", kind, name, k, v, e))
			}
		}
	}
	for k := range m.GetAnnotations() {
		for _, e := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Sprintf("%s %q: annotation key %q: %s", kind, name, k, e))
		}
	}
	return errs
}

// A misspelled or unknown field in a template must fail the decoding, for core kinds and
// for each CRD kind; otherwise the strict decoding proves nothing. Each case copies the
// chart, breaks one template, renders it with every feature on and expects the error.
func TestStrictDecodeRejectsMisspelledField(t *testing.T) {
	cases := []struct {
		template, from, to, want string
		n                        int // documents expected to fail (0: one)
	}{
		{"deployment.yaml", "revisionHistoryLimit:", "revisionHistoryLimt:", `unknown field "spec.revisionHistoryLimt"`, 1},
		{"deployment.yaml", "terminationGracePeriodSeconds:", "TerminationGracePeriodSeconds:", `unknown field "spec.template.spec.TerminationGracePeriodSeconds"`, 1},
		{"_helpers.tpl", "  restartPolicy: Never", "  restartPolicy: Never\n      retryPolicy: Never", `unknown field "spec.template.spec.retryPolicy"`, 2},
		{"servicemonitor.yaml", "scrapeTimeout:", "scrape_timeout:", `unknown field "spec.endpoints[0].scrape_timeout"`, 1},
		{"scaledobject.yaml", "pollingInterval:", "pollingIntervall:", `unknown field "spec.pollingIntervall"`, 1},
		{"prometheusrule.yaml", "- alert: WebhookBridgeBreakerOpen", "- alertname: WebhookBridgeBreakerOpen", `unknown field "spec.groups[0].rules[6].alertname"`, 1},
		{"pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v2", `no kind "PodDisruptionBudget" is registered for version "policy/v2"`, 1},
		{"deployment.yaml", "replicas: {{ .Values.replicaCount }}", "replicas: \"{{ .Values.replicaCount }}\"", "cannot unmarshal string into Go struct field", 1},
	}
	all, _ := filepath.Abs("values-all.yaml")
	for _, c := range cases {
		t.Run(c.template+"/"+strings.Fields(c.to)[0], func(t *testing.T) {
			chart := copyChart(t)
			p := filepath.Join(chart, "templates", c.template)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), c.from) {
				t.Fatalf("%s no longer contains %q: update the test", c.template, c.from)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), c.from, c.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			files := []string{all}
			if c.template == "deployment.yaml" && strings.Contains(c.from, "replicas") {
				files = nil // keda in values-all drops spec.replicas
			}
			stream, err := runHelm(templateArgs(chart, files)...)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := splitStream(stream)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				if _, err := decodeStrict(d.raw); err != nil {
					got = append(got, err.Error())
				}
			}
			n := c.n
			if n == 0 {
				n = 1
			}
			if len(got) != n {
				t.Fatalf("want %d decoding error(s) containing %q, got %q", n, c.want, got)
			}
			for _, g := range got {
				if !strings.Contains(g, c.want) {
					t.Fatalf("want decoding errors containing %q, got %q", c.want, got)
				}
			}
			t.Logf("rejected: %s", got[0])
		})
	}
}

// copyChart copies the chart directory to a temporary one.
func copyChart(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "webhook-bridge")
	err := filepath.Walk(env.chart, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(env.chart, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
