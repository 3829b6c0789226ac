// schema.go - a JSON Schema subset validator: type, properties, required, enum, minimum,
// maximum, items, additionalProperties (+ the annotations title/description/default/$schema).
// Any other keyword is an error, so the schema cannot silently rely on something unchecked.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
)

var annotationKeywords = map[string]bool{"$schema": true, "title": true, "description": true,
	"default": true, "examples": true, "$comment": true}
var checkedKeywords = map[string]bool{"type": true, "properties": true, "required": true,
	"enum": true, "minimum": true, "maximum": true, "items": true, "additionalProperties": true}

// toJSONValue normalises YAML-decoded values to what encoding/json produces (float64, ...).
func toJSONValue(v interface{}) (interface{}, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(b, &out)
	return out, err
}

func jsonType(v interface{}) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if t == math.Trunc(t) {
			return "integer"
		}
		return "number"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want string, v interface{}) bool {
	got := jsonType(v)
	return got == want || (want == "number" && got == "integer")
}

// Validate returns every violation of schema by value, as "path: message".
func Validate(schema map[string]interface{}, value interface{}) []string {
	var errs []string
	validate(schema, value, "", &errs)
	sort.Strings(errs)
	return errs
}

func validate(s map[string]interface{}, v interface{}, path string, errs *[]string) {
	at := path
	if at == "" {
		at = "(root)"
	}
	bad := func(format string, a ...interface{}) {
		*errs = append(*errs, at+": "+fmt.Sprintf(format, a...))
	}
	for k := range s {
		if !annotationKeywords[k] && !checkedKeywords[k] {
			bad("schema uses unsupported keyword %q", k)
		}
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch tt := t.(type) {
		case string:
			types = []string{tt}
		case []interface{}:
			for _, x := range tt {
				types = append(types, fmt.Sprint(x))
			}
		}
		ok := false
		for _, want := range types {
			if typeMatches(want, v) {
				ok = true
			}
		}
		if !ok {
			bad("is %s, want %v", jsonType(v), types)
			return
		}
	}
	if e, ok := s["enum"].([]interface{}); ok {
		found := false
		for _, x := range e {
			if reflect.DeepEqual(x, v) {
				found = true
			}
		}
		if !found {
			bad("%v is not one of %v", v, e)
		}
	}
	if n, ok := v.(float64); ok {
		if min, ok := s["minimum"].(float64); ok && n < min {
			bad("%v is below the minimum %v", n, min)
		}
		if max, ok := s["maximum"].(float64); ok && n > max {
			bad("%v is above the maximum %v", n, max)
		}
	}
	if obj, ok := v.(map[string]interface{}); ok {
		props, _ := s["properties"].(map[string]interface{})
		if req, ok := s["required"].([]interface{}); ok {
			for _, r := range req {
				if _, present := obj[fmt.Sprint(r)]; !present {
					bad("missing required property %q", r)
				}
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := path + "." + k
			if path == "" {
				child = k
			}
			if ps, ok := props[k].(map[string]interface{}); ok {
				validate(ps, obj[k], child, errs)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("unknown property %q", k)
				}
			case map[string]interface{}:
				validate(ap, obj[k], child, errs)
			}
		}
	}
	if arr, ok := v.([]interface{}); ok {
		if is, ok := s["items"].(map[string]interface{}); ok {
			for i, x := range arr {
				validate(is, x, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	}
}
