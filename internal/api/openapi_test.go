package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
)

// Every route in the table is documented with its permission, and the
// document describes no route that does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Permission string `json:"x-permission"`
			Summary    string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPISpec(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	seen := map[string]bool{}
	for _, r := range api.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s is missing from openapi.json", key)
			continue
		}
		if op.Permission != r.Perm().String() {
			t.Errorf("%s: openapi.json says x-permission %q, the route table says %q", key, op.Permission, r.Perm())
		}
		if op.Summary == "" {
			t.Errorf("%s: no summary", key)
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !seen[strings.ToUpper(m)+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not in the route table", strings.ToUpper(m), path)
			}
		}
	}
}
