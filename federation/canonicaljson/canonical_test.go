package canonicaljson

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCanonicalizeGolden runs every example of appendices "Canonical JSON"
// (01-10) plus extra grammar cases kept in testdata/canonical.
func TestCanonicalizeGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/canonical/*.in.json")
	if err != nil || len(ins) < 10 {
		t.Fatalf("golden files: %v (%d found)", err, len(ins))
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			input := mustRead(t, in)
			want := mustRead(t, strings.TrimSuffix(in, ".in.json")+".want.json")
			got, err := Canonicalize(input)
			if err != nil {
				t.Fatalf("Canonicalize: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if again, _ := Canonicalize(got); !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %s", again)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCanonicalizeErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{`{"a":1,"a":2}`, ErrDuplicateKey},
		{"\"\xff\"", ErrInvalidUTF8},
		{"{\"\xc3\":1}", ErrInvalidUTF8},
		{`"\ud83d"`, ErrLoneSurrogate},
		{`"\ude00\ud83d"`, ErrLoneSurrogate},
		{`"\ud83d\u0041"`, ErrLoneSurrogate},
		{`1.5`, ErrNumber},
		{`1e-1`, ErrNumber},
		{`9007199254740992`, ErrNumber},
		{`-9007199254740992`, ErrNumber},
		{`1e16`, ErrNumber},
		{`1e999999999999999999`, ErrNumber},
		{`01`, ErrSyntax},
		{`1.`, ErrSyntax},
		{`.5`, ErrSyntax},
		{`+1`, ErrSyntax},
		{`1e`, ErrSyntax},
		{"\"a\tb\"", ErrSyntax},
		{`"\x"`, ErrSyntax},
		{`"\u12"`, ErrSyntax},
		{`[1,]`, ErrSyntax},
		{`{"a":1,}`, ErrSyntax},
		{`{"a" 1}`, ErrSyntax},
		{`{1:1}`, ErrSyntax},
		{`nul`, ErrSyntax},
		{``, ErrSyntax},
		{`"abc`, ErrSyntax},
		{`{} {}`, ErrTrailing},
		{`[] x`, ErrTrailing},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ErrTooDeep},
	}
	for _, tc := range cases {
		_, err := Canonicalize([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("Canonicalize(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestCompat(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"depth":99999999999999999999}`, `{"depth":99999999999999999999}`},
		{`[-99999999999999999999, -0, 3]`, `[-99999999999999999999,0,3]`},
	}
	for _, tc := range cases {
		got, err := CanonicalizeCompat([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("CanonicalizeCompat(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := CanonicalizeCompat([]byte(`1.5`)); !errors.Is(err, ErrNumber) {
		t.Errorf("compat accepted a fraction: %v", err)
	}
}

func TestMarshal(t *testing.T) {
	type inner struct {
		Z string `json:"z"`
		A int    `json:"a"`
	}
	got, err := Marshal(map[string]any{"html": "<&>", "in": inner{"x", 2}, "f": 3.0, "list": []string{"b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"f":3,"html":"<&>","in":{"a":2,"z":"x"},"list":["b","a"]}`
	if string(got) != want {
		t.Errorf("got %s want %s", got, want)
	}
	if _, err := Marshal(map[string]any{"f": 0.5}); !errors.Is(err, ErrNumber) {
		t.Errorf("float accepted: %v", err)
	}
	if _, err := Encode(map[string]any{"c": make(chan int)}); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("chan accepted: %v", err)
	}
	if got, err := Encode([]any{json.RawMessage(`{"b":1, "a":2}`), json.Number("7")}); err != nil || string(got) != `[{"a":2,"b":1},7]` {
		t.Errorf("raw/number: %s %v", got, err)
	}
}

// FuzzCanonicalJSON checks that Canonicalize never panics, that its output
// is a fixed point, that the output is accepted by Validate and that it means
// the same as the input to encoding/json.
func FuzzCanonicalJSON(f *testing.F) {
	ins, _ := filepath.Glob("testdata/canonical/*.json")
	for _, in := range ins {
		b, _ := os.ReadFile(in)
		f.Add(b)
	}
	f.Add([]byte(`{"a":[1,"\u00e9",{"b":null}],"\u0000":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point: %q -> %q (%v)", out, again, err)
		}
		if err := Validate(data); err != nil {
			t.Fatalf("input %q accepted but fails Validate: %v", data, err)
		}
		if err := Validate(out); err != nil {
			t.Fatalf("output %q fails Validate: %v", out, err)
		}
		var a, b any
		if json.Unmarshal(data, &a) != nil || json.Unmarshal(out, &b) != nil {
			t.Fatalf("encoding/json disagrees on %q / %q", data, out)
		}
		if !reflect.DeepEqual(a, b) { // float == treats -0 and 0 alike
			t.Fatalf("meaning changed: %q vs %q", data, out)
		}
	})
}
