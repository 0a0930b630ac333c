package deployment

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"testing"

	"github.com/gowebpki/jcs"
)

// RFC 8785's own examples, run through the canonicalizer the hash uses.

// RFC 8785 §3.2.2: the sample input and its canonical form (given in the RFC as UTF-8 hex).
func TestCanonicalRFC8785Sample(t *testing.T) {
	input := `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`
	wantHex := "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e" +
		"756d62657273223a5b3333333333333333332e333333333333332c31652b3330" +
		"2c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac24" +
		"5c75303030665c6e4127425c225c5c5c5c5c222f227d"
	got, err := jcs.Transform([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != wantHex {
		t.Fatalf("canonical form %s\n got %x\nwant %s", got, got, wantHex)
	}
	// The same through the path the hash takes: parsed into a tree, then canonicalized.
	if viaTree := canonicalViaTree(t, input); viaTree != string(got) {
		t.Fatalf("via the parsed tree %s, directly %s", viaTree, got)
	}
}

// RFC 8785 §3.2.3: properties sort by their UTF-16 code units, not by UTF-8 bytes or code points.
func TestCanonicalRFC8785Sorting(t *testing.T) {
	input := `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`
	want := "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\"," +
		"\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\"," +
		"\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"
	if got := canonicalViaTree(t, input); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// canonicalViaTree canonicalizes a JSON object the way the hash does: parsed, then written.
func canonicalViaTree(t *testing.T, input string) string {
	t.Helper()
	tree, ferr := parseObject([]byte(input), "document")
	if ferr != nil {
		t.Fatal(ferr)
	}
	canonical, err := canonicalJSON(tree)
	if err != nil {
		t.Fatal(err)
	}
	return string(canonical)
}

// RFC 8785 Appendix B: IEEE 754 doubles (as hex bits) and their canonical text.
func TestCanonicalRFC8785Numbers(t *testing.T) {
	vectors := []struct{ bits, want string }{
		{"0000000000000000", "0"},
		{"8000000000000000", "0"},
		{"0000000000000001", "5e-324"},
		{"8000000000000001", "-5e-324"},
		{"7fefffffffffffff", "1.7976931348623157e+308"},
		{"ffefffffffffffff", "-1.7976931348623157e+308"},
		{"4340000000000000", "9007199254740992"},
		{"c340000000000000", "-9007199254740992"},
		{"4430000000000000", "295147905179352830000"},
		{"44b52d02c7e14af5", "9.999999999999997e+22"},
		{"44b52d02c7e14af6", "1e+23"},
		{"44b52d02c7e14af7", "1.0000000000000001e+23"},
		{"444b1ae4d6e2ef4e", "999999999999999700000"},
		{"444b1ae4d6e2ef4f", "999999999999999900000"},
		{"444b1ae4d6e2ef50", "1e+21"},
		{"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"},
		{"3eb0c6f7a0b5ed8d", "0.000001"},
		{"41b3de4355555553", "333333333.3333332"},
		{"41b3de4355555554", "333333333.33333325"},
		{"41b3de4355555555", "333333333.3333333"},
		{"41b3de4355555556", "333333333.3333334"},
		{"41b3de4355555557", "333333333.33333343"},
		{"becbf647612f3696", "-0.0000033333333333333333"},
		{"43143ff3c1cb0959", "1424953923781206.2"},
	}
	for _, v := range vectors {
		t.Run(v.bits, func(t *testing.T) {
			b, err := hex.DecodeString(v.bits)
			if err != nil {
				t.Fatal(err)
			}
			f := math.Float64frombits(binary.BigEndian.Uint64(b))
			// The shortest Go text that reads back as exactly this double, as a JSON array element.
			input := "[" + strconv.FormatFloat(f, 'g', -1, 64) + "]"
			got, err := jcs.Transform([]byte(input))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "["+v.want+"]" {
				t.Fatalf("%s canonicalizes to %s, want [%s]", input, got, v.want)
			}
		})
	}
}
