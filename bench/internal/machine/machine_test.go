package machine

import (
	"runtime"
	"testing"
)

func TestDetect(t *testing.T) {
	m := Detect("purego", []string{"purego"})
	if m.CPU == "" || m.GOARCH != runtime.GOARCH || m.GOOS != runtime.GOOS || m.NumCPU < 1 || m.GOMAXPROCS < 1 {
		t.Errorf("Detect = %+v", m)
	}
	if m.Backend != "purego" || len(m.Backends) != 1 || m.GoVersion != runtime.Version() {
		t.Errorf("Detect = %+v", m)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"AMD EPYC 9R14 96-Core Processor":          "amd-epyc-9r14-96-core-processor",
		"Intel(R) Xeon(R) Platinum 8488C @ 2.4GHz": "intel-r-xeon-r-platinum-8488c-2-4ghz",
		"  Apple M2  ": "apple-m2",
		"":             "",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"48K": 48 << 10, "2048K": 2 << 20, "32M": 32 << 20, "512": 512, "x": 0} {
		if got := parseSize(in); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
}
