package deployment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// maxExactInteger is 2^53: the largest integer every JSON implementation (and RFC 8785, which
// reads numbers as IEEE doubles) holds exactly. A larger integer literal would canonicalize to
// the same text as its neighbours, so two different documents would share a hash.
const maxExactInteger = 1 << 53

// Document is a deployment as received: the JSON it came as and the typed model read from it.
// The hash is computed from the JSON, so a client in any language gets the same value.
type Document struct {
	Deployment Deployment
	raw        []byte
	tree       map[string]any
	hash       string
}

// Parse reads a deployment document strictly: valid UTF-8 JSON, an object at the top, no
// duplicate keys, no unknown fields (names match exactly, not case-insensitively), every
// integer within ±2^53, every field of the expected JSON type. It does not apply the
// deployment rules: call Validate for those.
func Parse(raw []byte) (*Document, error) {
	tree, ferr := parseObject(raw, "document")
	if ferr != nil {
		return nil, ferr
	}
	var d Deployment
	if err := decodeStrict(raw, tree, &d, ""); err != nil {
		return nil, err
	}
	hash, err := hashTree(tree)
	if err != nil {
		return nil, err
	}
	return &Document{Deployment: d, raw: bytes.Clone(raw), tree: tree, hash: hash}, nil
}

// Hash is the deployment hash: lowercase hex SHA-256 of the RFC 8785 form of the document
// without contract_id, signature_requirement.signatures and the workloads' result.
func (doc *Document) Hash() string { return doc.hash }

// Bytes is the document exactly as it was parsed.
func (doc *Document) Bytes() []byte { return bytes.Clone(doc.raw) }

// HashJSON parses a deployment document and returns its hash.
func HashJSON(raw []byte) (string, error) {
	doc, err := Parse(raw)
	if err != nil {
		return "", err
	}
	return doc.hash, nil
}

// parseObject reads raw as a JSON object into a tree of map[string]any, []any, string, bool,
// nil and json.Number, refusing what Parse refuses. where names the whole value in errors
// ("document" or "data"); member paths in errors are relative to it.
func parseObject(raw []byte, where string) (map[string]any, *FieldError) {
	if !utf8.Valid(raw) {
		return nil, fieldErr(where, nil, ErrInvalidJSON, "is not valid UTF-8")
	}
	if !json.Valid(raw) {
		var probe any
		err := json.Unmarshal(raw, &probe)
		return nil, fieldErr(where, nil, ErrInvalidJSON, "is not valid JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := parseValue(dec, "")
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr(where, nil, ErrWrongType, "is not a JSON object")
	}
	// I-JSON (RFC 7493) rules the decoder above lets through, such as an escaped lone
	// surrogate, which it would silently turn into U+FFFD.
	if _, err := jcs.Transform(raw); err != nil {
		return nil, fieldErr(where, nil, ErrInvalidJSON, "is not I-JSON (RFC 7493): %v", err)
	}
	return obj, nil
}

// parseValue reads one value from a decoder whose input json.Valid accepted.
func parseValue(dec *json.Decoder, path string) (any, *FieldError) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fieldErr(pathOrDocument(path), nil, ErrInvalidJSON, "is not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return parseMembers(dec, path)
		}
		return parseElements(dec, path)
	case json.Number:
		if err := checkNumber(t, path); err != nil {
			return nil, err
		}
		return t, nil
	default:
		return t, nil
	}
}

func parseMembers(dec *json.Decoder, path string) (map[string]any, *FieldError) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fieldErr(pathOrDocument(path), nil, ErrInvalidJSON, "is not valid JSON: %v", err)
		}
		key := tok.(string) // json.Valid guarantees object keys are strings
		member := joinPath(path, key)
		if _, dup := obj[key]; dup {
			return nil, fieldErr(member, nil, ErrDuplicateKey, "appears twice")
		}
		value, ferr := parseValue(dec, member)
		if ferr != nil {
			return nil, ferr
		}
		obj[key] = value
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, fieldErr(pathOrDocument(path), nil, ErrInvalidJSON, "is not valid JSON: %v", err)
	}
	return obj, nil
}

func parseElements(dec *json.Decoder, path string) ([]any, *FieldError) {
	arr := []any{}
	for dec.More() {
		v, err := parseValue(dec, fmt.Sprintf("%s[%d]", path, len(arr)))
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, fieldErr(pathOrDocument(path), nil, ErrInvalidJSON, "is not valid JSON: %v", err)
	}
	return arr, nil
}

// checkNumber refuses integer literals beyond ±2^53 (see maxExactInteger). Fractions and
// exponents are left to checkShape, which refuses them for the integer fields.
func checkNumber(n json.Number, path string) *FieldError {
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		return nil
	}
	digits := strings.TrimPrefix(s, "-")
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v > maxExactInteger {
		return fieldErr(path, n, ErrNumberTooLarge, "is beyond ±2^53, which JSON numbers cannot hold exactly")
	}
	return nil
}

// decodeStrict checks that tree has the shape of v (checkShape), then decodes raw into v.
func decodeStrict(raw []byte, tree map[string]any, v any, workload string) error {
	if err := checkShape(tree, reflect.TypeOf(v).Elem(), ""); err != nil {
		err.Workload = workload
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil { // not expected after checkShape
		where := "document"
		if workload != "" {
			where = "data"
		}
		return &FieldError{Workload: workload, Field: where, Rule: ErrInvalidJSON, Problem: "does not decode: " + err.Error()}
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkShape checks a parsed value against the Go type it will be decoded into, naming the exact
// path (with array indices) of the first mismatch: every key names a field exactly (encoding/json
// would match {"Version": 1} case-insensitively, while other clients ignore it), every value has
// the field's JSON type, every integer fits the field. null is allowed anywhere (the zero value).
func checkShape(v any, t reflect.Type, path string) *FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || t == rawMessageType { // raw data is decoded (and checked) later by its own type
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, v, t)
		}
		fields := jsonFields(t)
		for _, key := range sortedKeys(obj) {
			field, ok := fields[key]
			if !ok {
				return fieldErr(joinPath(path, key), nil, ErrUnknownField, "is not a field of %s", describe(path))
			}
			if err := checkShape(obj[key], field.Type, joinPath(path, key)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, v, t)
		}
		for _, key := range sortedKeys(obj) {
			if err := checkShape(obj[key], t.Elem(), joinPath(path, key)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return wrongType(path, v, t)
		}
		for i, elem := range arr {
			if err := checkShape(elem, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrongType(path, v, t)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrongType(path, v, t)
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); !ok || err != nil {
			return wrongType(path, v, t)
		}
	case reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); !ok || err != nil {
			return wrongType(path, v, t)
		}
	}
	return nil
}

func wrongType(path string, v any, t reflect.Type) *FieldError {
	switch v.(type) {
	case map[string]any:
		return fieldErr(path, nil, ErrWrongType, "is an object, expected %s", jsonKind(t))
	case []any:
		return fieldErr(path, nil, ErrWrongType, "is an array, expected %s", jsonKind(t))
	}
	return fieldErr(path, v, ErrWrongType, "is not %s", jsonKind(t))
}

// jsonFields maps the JSON names of t's fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f
		}
	}
	return fields
}

func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOrDocument(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

func describe(path string) string {
	if path == "" {
		return "this object"
	}
	return path
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits()))
	case reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer from %d to %d", -int64(1)<<(t.Bits()-1), int64(math.MaxInt64)>>(64-t.Bits()))
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}
