package jsonstr

import (
	"encoding/json"
	"testing"
)

// TestDecode: the body after the opening quote decodes as encoding/json
// decodes the whole literal (lenient mode), and strict mode refuses lone
// surrogates; malformed bodies name the problem.
func TestDecode(t *testing.T) {
	for _, body := range []string{
		`plain"`, `a\"b\\c\/d\b\f\n\r\t"`, `\u00e9\u4E2D"`, `\ud83d\ude00 pair"`,
		`\ud83d lone"`, `\ude00"`, `\ud83d\u0041"`, `\ud83d\ud83d\ude00"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+body), &want); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		got, next, msg := Decode(nil, body, 0, false)
		if msg != "" || string(got) != want || next != len(body) {
			t.Errorf("Decode(%q) = %q, %d, %q; want %q, %d", body, got, next, msg, want, len(body))
		}
		gotB, _, _ := Decode(nil, []byte(body), 0, false)
		if string(gotB) != want {
			t.Errorf("Decode([]byte %q) = %q, want %q", body, gotB, want)
		}
	}
	for body, want := range map[string]string{
		`\ud83d lone"`: "unpaired surrogate", `\ude00"`: "unpaired surrogate", `\ud83d\u0041"`: "unpaired surrogate",
	} {
		if _, _, msg := Decode(nil, body, 0, true); msg != want {
			t.Errorf("strict Decode(%q): %q, want %q", body, msg, want)
		}
	}
	for body, want := range map[string]string{
		`abc`: "unterminated string", `a\`: "unterminated string", "a\nb\"": "control character in a string",
		`\x"`: "invalid escape", `\u12"`: "invalid \\u escape", `\u12g4"`: "invalid \\u escape",
		`\ud83d\uzzzz"`: "invalid \\u escape",
	} {
		if _, _, msg := Decode(nil, body, 0, false); msg != want {
			t.Errorf("Decode(%q): %q, want %q", body, msg, want)
		}
	}
	if got, next, _ := Decode([]byte("pre"), `x"tail`, 0, false); string(got) != "prex" || next != 2 {
		t.Errorf("append and next: %q, %d", got, next)
	}
}
