// render.go - renders a Helm chart the way `helm template` does, with Go's text/template,
// sprig and the Helm-only functions this chart uses. No Kubernetes API, no dependencies.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// Doc is one rendered Kubernetes object.
type Doc struct {
	Source string                 // templates/<file>
	Text   string                 // the YAML text
	Obj    map[string]interface{} // parsed
}

// Rendered is the result of one chart render.
type Rendered struct {
	Docs   []Doc
	Notes  string
	Values map[string]interface{}
}

// loadYAMLFile parses a YAML file into a generic map.
func loadYAMLFile(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseYAMLMap(b, path)
}

func parseYAMLMap(b []byte, what string) (map[string]interface{}, error) {
	var v interface{}
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := normalize(v).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: top level is not a map", what)
	}
	return m, nil
}

// normalize turns map[interface{}]interface{} (non-string keys) into string-keyed maps.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []interface{}:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	}
	return v
}

// mergeValues deep-merges override into base (Helm semantics: maps merge, everything else
// replaces, an explicit null deletes the key). base is modified and returned.
func mergeValues(base, override map[string]interface{}) map[string]interface{} {
	for k, ov := range override {
		if ov == nil {
			delete(base, k)
			continue
		}
		om, oIsMap := ov.(map[string]interface{})
		bm, bIsMap := base[k].(map[string]interface{})
		if oIsMap && bIsMap {
			base[k] = mergeValues(bm, om)
		} else {
			base[k] = ov
		}
	}
	return base
}

// toYAML renders v like Helm's toYaml (2-space indent, no trailing newline).
func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m, err := parseYAMLMap([]byte(s), "fromYaml")
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	return m
}

// chartMeta maps Chart.yaml to the .Chart fields templates use (Helm's capitalised names).
func chartMeta(c map[string]interface{}) map[string]interface{} {
	m := map[string]interface{}{}
	names := map[string]string{"apiVersion": "APIVersion", "name": "Name", "version": "Version",
		"appVersion": "AppVersion", "description": "Description", "type": "Type",
		"kubeVersion": "KubeVersion", "keywords": "Keywords", "home": "Home",
		"sources": "Sources", "icon": "Icon", "annotations": "Annotations"}
	for k, v := range c {
		if n, ok := names[k]; ok {
			m[n] = v
		}
	}
	return m
}

// Render renders chartDir with the given override files/texts merged over values.yaml.
func Render(chartDir string, overrides []map[string]interface{}, releaseName, namespace string) (*Rendered, error) {
	chartYAML, err := loadYAMLFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	values, err := loadYAMLFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		values = mergeValues(values, deepCopyMap(o))
	}
	chartName, _ := chartYAML["name"].(string)
	meta := chartMeta(chartYAML)

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // Helm removes these too: renders must not depend on the host
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 100 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) }
	// No cluster: lookup finds nothing, exactly like `helm template`.
	funcs["lookup"] = func(apiVersion, kind, ns, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	root.Funcs(funcs)

	var renderable []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := chartName + "/templates/" + filepath.Base(f)
		if _, err := root.New(name).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("parse %s: %v", name, err)
		}
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "_") {
			renderable = append(renderable, name)
		}
	}
	root.Option("missingkey=default")

	top := func(name string) map[string]interface{} {
		return map[string]interface{}{
			"Values": values,
			"Chart":  meta,
			"Release": map[string]interface{}{
				"Name": releaseName, "Namespace": namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1",
					"Minor": "29", "GitVersion": "v1.29.0"},
				"APIVersions": apiVersions{},
			},
			"Template": map[string]interface{}{"Name": name,
				"BasePath": chartName + "/templates"},
			"Files": map[string]interface{}{},
		}
	}

	out := &Rendered{Values: values}
	for _, name := range renderable {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, top(name)); err != nil {
			return nil, fmt.Errorf("render %s: %v", name, err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		src := strings.TrimPrefix(name, chartName+"/")
		if strings.HasSuffix(name, "NOTES.txt") {
			out.Notes = text
			continue
		}
		for _, part := range splitDocs(text) {
			obj, err := parseYAMLMap([]byte(part), src)
			if err != nil {
				return nil, fmt.Errorf("%v\n---\n%s", err, part)
			}
			if len(obj) == 0 {
				continue
			}
			out.Docs = append(out.Docs, Doc{Source: src, Text: part, Obj: obj})
		}
	}
	return out, nil
}

// apiVersions answers .Capabilities.APIVersions.Has like a cluster with the usual CRDs.
type apiVersions struct{}

func (apiVersions) Has(v string) bool { return true }

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocs splits a YAML stream and drops documents holding only comments/whitespace.
func splitDocs(s string) []string {
	var out []string
	for _, p := range docSep.Split(s, -1) {
		empty := true
		for _, line := range strings.Split(p, "\n") {
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			out = append(out, strings.Trim(p, "\n")+"\n")
		}
	}
	return out
}

func deepCopyMap(m map[string]interface{}) map[string]interface{} {
	b, _ := yaml.Marshal(m)
	c, _ := parseYAMLMap(b, "copy")
	return c
}

// WriteStream writes the documents like `helm template` (with # Source comments).
func (r *Rendered) WriteStream(w *bytes.Buffer, chartName string) {
	for _, d := range r.Docs {
		fmt.Fprintf(w, "---\n# Source: %s/%s\n%s", chartName, d.Source, d.Text)
	}
}
