package deployment

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// loadTree reads a testdata JSON file as a generic tree the tests mutate.
func loadTree(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return treeOf(t, raw)
}

// treeOf decodes a JSON object into a fresh generic tree.
func treeOf(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var tree map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	return tree
}

// validTree is vector2: a machine with a network, a disk and a public IPv4. It passes Validate.
func validTree(t *testing.T) map[string]any { return loadTree(t, "vector2.json") }

// set puts value at a dotted path ("workloads.3.data.size"); numeric segments index arrays.
func set(t *testing.T, tree any, path string, value any) {
	t.Helper()
	parent, last := walk(t, tree, path)
	switch p := parent.(type) {
	case map[string]any:
		p[last] = value
	case []any:
		i, _ := strconv.Atoi(last)
		p[i] = value
	}
}

// del removes the key at a dotted path.
func del(t *testing.T, tree any, path string) {
	t.Helper()
	parent, last := walk(t, tree, path)
	delete(parent.(map[string]any), last)
}

// get reads the value at a dotted path.
func get(t *testing.T, tree any, path string) any {
	t.Helper()
	parent, last := walk(t, tree, path)
	switch p := parent.(type) {
	case map[string]any:
		return p[last]
	case []any:
		i, _ := strconv.Atoi(last)
		return p[i]
	}
	return nil
}

func walk(t *testing.T, tree any, path string) (any, string) {
	t.Helper()
	parts := strings.Split(path, ".")
	node := tree
	for _, part := range parts[:len(parts)-1] {
		switch n := node.(type) {
		case map[string]any:
			node = n[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(n) {
				t.Fatalf("path %s: no element %s", path, part)
			}
			node = n[i]
		default:
			t.Fatalf("path %s: %s is not a container", path, part)
		}
	}
	return node, parts[len(parts)-1]
}

func encode(t *testing.T, tree any) []byte {
	t.Helper()
	raw, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustParse(t *testing.T, tree any) *Document {
	t.Helper()
	doc, err := Parse(encode(t, tree))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}
