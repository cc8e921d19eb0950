package canonicaljson

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{`{"a":1,"b":[1,2,{"c":"d"}]}`, nil},
		{`"\ud83d\ude00"`, nil},
		{`{"a":1,"a":2}`, ErrDuplicateKey},
		{`{"x":{"a":1,"a":2}}`, ErrDuplicateKey},
		{`[{"a":1},{"a":2}]`, nil},
		{"\"\xff\"", ErrInvalidUTF8},
		{`"\ud83d"`, ErrLoneSurrogate},
		{`"\ude00"`, ErrLoneSurrogate},
		{`"\ud83dx"`, ErrLoneSurrogate},
		{`{"a":`, ErrSyntax},
		{`{} {}`, ErrTrailing},
		{`"\\u0000"`, nil},
	}
	for _, tc := range cases {
		err := Validate([]byte(tc.in))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Validate(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
	if err := ValidateNoNUL([]byte(`{"a":"x\u0000"}`)); !errors.Is(err, ErrNULCharacter) {
		t.Errorf("NUL accepted: %v", err)
	}
	if err := ValidateNoNUL([]byte(`{"a":"x\\u0000"}`)); err != nil {
		t.Errorf("escaped backslash rejected: %v", err)
	}
}
