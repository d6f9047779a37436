package tokenizer

import (
	"encoding/json"
	"maps"
	"testing"
)

func parseVocabMap(data []byte) (map[string]int64, error) {
	m := map[string]int64{}
	err := parseVocabJSON(data, func(k string, v int64) error { m[k] = v; return nil })
	return m, err
}

func TestParseVocabJSON(t *testing.T) {
	for _, ok := range []string{
		`{}`, ` { } `, `{"a":1}`, "{\n \"a\" : 1 ,\t\"b\":-2}\n",
		`{"\u0120the": 262, "\"q\\/\b\f\n\r\t": 3, "\ud83d\ude00": 4, "é中": 5, "\u00e9": 6}`,
	} {
		got, err := parseVocabMap([]byte(ok))
		if err != nil {
			t.Errorf("%s: %v", ok, err)
			continue
		}
		var want map[string]int64
		if err := json.Unmarshal([]byte(ok), &want); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", ok, got, want)
		}
	}
	for _, bad := range []string{
		``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1.5}`, `{"a":1e3}`, `{"a":"1"}`, `{a:1}`, `{"a":1} x`,
		`{"\x":1}`, `{"\u12":1}`, `{"\ud800":1}`, "{\"a\nb\":1}", "{\"\xff\":1}", `{"a":99999999999999999999}`, `{"a`,
	} {
		if _, err := parseVocabMap([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseVocabJSON: whatever the parser accepts, encoding/json reads the same way.
func FuzzParseVocabJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"\u0120":2, "b":-3}`, `{"\ud83d\ude00":4}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseVocabMap(data)
		if err != nil {
			return
		}
		var want map[string]int64
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("%q: accepted, but encoding/json says %v", data, err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", data, got, want)
		}
	})
}
