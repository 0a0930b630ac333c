package deployment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"unicode/utf16"
)

// FuzzParseHash: parsing never panics, nor do validation, capacity and signature checks of what
// parses; and the hash of a parsed document does not change when the same document is written
// differently (keys in another order, other whitespace, every non-ASCII character escaped).
func FuzzParseHash(f *testing.F) {
	for _, name := range []string{"vector1", "vector2", "vector3"} {
		raw, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"version":1,"version":2}`))
	f.Add([]byte(`{"workloads":[{"name":"a","type":"zmachine","data":{"compute_capacity":{"cpu":1}}}]}`))
	f.Add([]byte(`{"description":"\ud83d\ude00","contract_id":9007199254740992}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := Parse(raw)
		if err != nil {
			return
		}
		_ = doc.Deployment.Validate()
		_, _ = doc.Deployment.Capacity()
		_ = Verify(doc, func(uint64) ([]byte, error) { return nil, fmt.Errorf("no keys") })

		again, err := Parse(reencode(doc.tree))
		if err != nil {
			t.Fatalf("the re-encoded document does not parse: %v", err)
		}
		if again.Hash() != doc.Hash() {
			t.Fatalf("hash %s of the re-encoded document, %s of the original", again.Hash(), doc.Hash())
		}
	})
}

// reencode writes a parsed tree as JSON unlike encoding/json does: keys in reverse order,
// spaces and newlines, every non-ASCII character as a \u escape.
func reencode(v any) []byte {
	var buf bytes.Buffer
	writeValue(&buf, v)
	return buf.Bytes()
}

func writeValue(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := sortedKeys(v)
		slices.Reverse(keys)
		buf.WriteString("{\n")
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(" ,\n")
			}
			writeString(buf, k)
			buf.WriteString(" : ")
			writeValue(buf, v[k])
		}
		buf.WriteString("\n}")
	case []any:
		buf.WriteString("[ ")
		for i, e := range v {
			if i > 0 {
				buf.WriteString(", ")
			}
			writeValue(buf, e)
		}
		buf.WriteString(" ]")
	case string:
		writeString(buf, v)
	default: // json.Number, bool, nil
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
}

func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			for _, unit := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(buf, `\u%04X`, unit)
			}
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}
