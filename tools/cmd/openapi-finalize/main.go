// Command openapi-finalize turns the merged OpenAPI v2 document written by
// protoc-gen-openapiv2 (allow_merge=true) into the document the node serves:
//
//   - it sets info.title (and info.version when -version is given);
//   - it makes every operationId unique by prefixing it with the proto package
//     of its service (protoc-gen-openapiv2 names them "<Service>_<Method>", and
//     every Cosmos module calls its service "Query");
//   - it fails if two operations still share an operationId;
//   - it drops top-level tags no operation uses (e.g. Msg services, which have
//     no REST routes).
//
// Everything else, including the order of keys, is kept as generated.
// It relies on include_package_in_tags=true: an operation's first tag is
// "<proto package>.<Service>".
//
// Usage: openapi-finalize -title "tfgrid REST API" -in merged.json -out openapi.json
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	in := flag.String("in", "", "merged OpenAPI v2 JSON written by protoc-gen-openapiv2")
	out := flag.String("out", "", "output file")
	title := flag.String("title", "", "info.title to set")
	version := flag.String("version", "", "info.version to set (kept as generated when empty)")
	flag.Parse()
	if *in == "" || *out == "" || *title == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out, *title, *version); err != nil {
		fmt.Fprintln(os.Stderr, "openapi-finalize:", err)
		os.Exit(1)
	}
}

func run(in, out, title, version string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	v, err := decode(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	doc, ok := v.(*object)
	if !ok || doc.get("swagger") != "2.0" {
		return fmt.Errorf("%s: not an OpenAPI v2 document", in)
	}

	info, _ := doc.get("info").(*object)
	if info == nil {
		info = &object{}
		doc.set("info", info)
	}
	info.set("title", title)
	if version != "" {
		info.set("version", version)
	}

	used, err := qualifyOperationIDs(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if tags, ok := doc.get("tags").([]any); ok {
		kept := []any{}
		for _, t := range tags {
			if o, _ := t.(*object); o != nil {
				if name, _ := o.get("name").(string); used[name] {
					kept = append(kept, t)
				}
			}
		}
		doc.set("tags", kept)
	}

	var compact bytes.Buffer
	if err := encode(&compact, doc); err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact.Bytes(), "", "  "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	return os.WriteFile(out, pretty.Bytes(), 0o644)
}

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true,
}

// qualifyOperationIDs prefixes every operationId with its proto package and returns the set
// of tags the operations use.
func qualifyOperationIDs(doc *object) (map[string]bool, error) {
	seen := map[string]string{}
	used := map[string]bool{}
	var errs []error
	paths, _ := doc.get("paths").(*object)
	if paths == nil {
		return used, nil
	}
	for _, p := range paths.kvs {
		item, _ := p.val.(*object)
		if item == nil {
			continue
		}
		for _, m := range item.kvs {
			op, _ := m.val.(*object)
			if op == nil || !httpMethods[m.key] {
				continue
			}
			tags, _ := op.get("tags").([]any)
			for _, t := range tags {
				if name, _ := t.(string); name != "" {
					used[name] = true
				}
			}
			id, _ := op.get("operationId").(string)
			if id == "" {
				continue
			}
			if len(tags) > 0 {
				if tag, _ := tags[0].(string); tag != "" {
					if i := strings.LastIndex(tag, "."); i > 0 {
						id = tag[:i] + "." + id
					}
				}
			}
			op.set("operationId", id)
			where := strings.ToUpper(m.key) + " " + p.key
			if prev, dup := seen[id]; dup {
				errs = append(errs, fmt.Errorf("operationId %q used by both %s and %s", id, prev, where))
				continue
			}
			seen[id] = where
		}
	}
	return used, errors.Join(errs...)
}

// object is a JSON object that keeps its keys in document order.
type object struct{ kvs []kv }

type kv struct {
	key string
	val any
}

func (o *object) get(k string) any {
	for _, e := range o.kvs {
		if e.key == k {
			return e.val
		}
	}
	return nil
}

func (o *object) set(k string, v any) {
	for i, e := range o.kvs {
		if e.key == k {
			o.kvs[i].val = v
			return
		}
	}
	o.kvs = append(o.kvs, kv{k, v})
}

// decode parses JSON into *object, []any, string, json.Number, bool and nil.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.kvs = append(o.kvs, kv{k, v})
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil
	}
}

// encode writes v as compact JSON, without HTML escaping.
func encode(w *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case *object:
		w.WriteByte('{')
		for i, e := range t.kvs {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := encode(w, e.key); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := encode(w, e.val); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := encode(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(t); err != nil {
			return err
		}
		w.Write(bytes.TrimRight(b.Bytes(), "\n"))
	}
	return nil
}
