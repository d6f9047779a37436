package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hostileRank is a header of about size bytes holding one tensor whose
// shape lists (size-60)/2 zero dimensions.
func hostileRank(size int) []byte {
	dims := (size - 60) / 2
	b := make([]byte, 8, 8+size+16)
	b = append(b, `{"a":{"dtype":"F32","data_offsets":[0,0],"shape":[0`...)
	b = append(b, strings.Repeat(",0", dims-1)...)
	b = append(b, "]}}"...)
	binary.LittleEndian.PutUint64(b, uint64(len(b)-8))
	return b
}

// hostileCount is a header holding n empty tensors.
func hostileCount(n int) []byte {
	b := make([]byte, 8, 8+n*60)
	b = append(b, '{')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"t`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`...)
	}
	b = append(b, '}')
	binary.LittleEndian.PutUint64(b, uint64(len(b)-8))
	return b
}

func fileOf(hdr []byte) []byte {
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(hdr)), uint64(len(hdr)))
	return append(out, hdr...)
}

// allocated returns the bytes f allocates (TotalAlloc: every allocation,
// freed or not, so an upper bound on the heap growth at its peak) and the
// process's peak RSS afterwards (Linux only, else 0).
func allocated(f func()) (uint64, uint64) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc, peakRSS()
}

func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// checkHostile loads file (with NewReader when headerOnly) and checks the error (want "" means success) and
// that the load allocated at most limit times the header's size.
func checkHostile(t *testing.T, file []byte, want string, limit float64) {
	t.Helper()
	checkHostileOf(t, file, want, limit, false)
}

func checkHostileOf(t *testing.T, file []byte, want string, limit float64, headerOnly bool) {
	t.Helper()
	hdr := len(file) - 8
	var err error
	alloc, rss := allocated(func() {
		if headerOnly {
			_, err = NewReader(bytes.NewReader(file), int64(len(file)))
		} else {
			_, _, err = Load(bytes.NewReader(file), int64(len(file)))
		}
	})
	switch {
	case want == "" && err != nil:
		t.Fatalf("Load: %v", err)
	case want != "" && (err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), want)):
		t.Fatalf("Load error %v, want one containing %q", err, want)
	}
	ratio := float64(alloc) / float64(hdr)
	t.Logf("header %.1f MB: allocated %.1f MB (%.2f× the header), process peak RSS %.0f MB", float64(hdr)/1e6, float64(alloc)/1e6, ratio, float64(rss)/1e6)
	if ratio > limit {
		t.Errorf("allocated %d bytes for a %d-byte header (%.2f×, limit %.1f×)", alloc, hdr, ratio, limit)
	}
}

// TestHostileHeaders: headers crafted to amplify memory are rejected (or
// loaded) with allocation bounded by a small multiple of the header. The
// full-size cases (a 96 MB header with one tensor of 48M dimensions, 1.6M
// empty tensors) run without -short; scaled-down ones always run.
func TestHostileHeaders(t *testing.T) {
	t.Run("rank/4MB", func(t *testing.T) { checkHostile(t, hostileRank(4<<20), "more than 16 dimensions", 1.3) })
	t.Run("count/under-cap", func(t *testing.T) {
		file := hostileCount(50_000)
		checkHostileOf(t, file, "", 3, true)
		checkHostile(t, file, "", 6)
	})
	t.Run("rank/at-cap", func(t *testing.T) {
		// MaxRank dimensions load.
		hdr := `{"a":{"dtype":"F32","shape":[` + strings.Repeat("1,", MaxRank-1) + `1],"data_offsets":[0,4]}}`
		if _, _, err := loadBytes(rawFile(hdr, make([]byte, 4))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("metadata", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"__metadata__":{`)
		for i := range MaxMetadata + 1 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%d":""`, i)
		}
		b.WriteString("}}")
		// Each entry takes ~9 bytes of text and ~35 of map: MaxMetadata
		// bounds the total (about 11 MB), not the ratio.
		checkHostile(t, fileOf([]byte(b.String())), "more than 65536 entries", 20)
	})
	t.Run("depth", func(t *testing.T) {
		hdr := `{"a":{"x":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}}`
		checkHostile(t, fileOf([]byte(hdr)), "deeper than 1000", 1.5)
	})
	if testing.Short() {
		t.Skip("the 96 MB cases allocate a few hundred MB")
	}
	t.Run("rank/96MB", func(t *testing.T) { checkHostile(t, hostileRank(96_000_000), "more than 16 dimensions", 1.3) })
	t.Run("count/1.6M", func(t *testing.T) {
		checkHostile(t, hostileCount(1_600_000), fmt.Sprintf("more than %d tensors", MaxTensors), 2.5)
	})
	t.Run("count/at-cap", func(t *testing.T) {
		// MaxTensors empty tensors are accepted: the header takes ~2.4×
		// its size (the map Load returns adds ~2×, see count/under-cap).
		checkHostileOf(t, hostileCount(MaxTensors), "", 3, true)
	})
}
