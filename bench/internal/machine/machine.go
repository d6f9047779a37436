// Package machine identifies the CPU and Go runtime a benchmark runs on.
package machine

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Detect describes this machine. backend and backends are what package
// kernels reports (kernels.Backend and kernels.Backends); they are passed in
// so that this package does not depend on the kernels.
func Detect(backend string, backends []string) schema.Machine {
	c := &cpuid.CPU
	m := schema.Machine{
		CPU:            strings.TrimSpace(c.BrandName),
		Vendor:         c.VendorID.String(),
		Family:         c.Family,
		Model:          c.Model,
		Stepping:       c.Stepping,
		Features:       append([]string(nil), c.FeatureSet()...),
		ThreadsPerCore: c.ThreadsPerCore,
		Hypervisor:     c.VM(),
		NumCPU:         runtime.NumCPU(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		GOOS:           runtime.GOOS,
		GOARCH:         runtime.GOARCH,
		GoVersion:      runtime.Version(),
		Backend:        backend,
		Backends:       append([]string(nil), backends...),
		Cache: schema.Cache{
			L1D: max(c.Cache.L1D, 0),
			L1I: max(c.Cache.L1I, 0),
			L2:  max(c.Cache.L2, 0),
			L3:  max(c.Cache.L3, 0),
		},
	}
	// cpuid counts the cores of the whole package, which on a virtual
	// machine is the host's (e.g. 254 on a 2-vCPU VM); the CPUs this process
	// can run on are runtime.NumCPU (its affinity mask).
	m.LogicalCores = m.NumCPU
	m.PhysicalCores = m.NumCPU
	if m.ThreadsPerCore > 1 && m.NumCPU%m.ThreadsPerCore == 0 {
		m.PhysicalCores = m.NumCPU / m.ThreadsPerCore
	}
	if m.Vendor == "VendorUnknown" {
		m.Vendor = ""
	}
	if c.Hz > 0 {
		m.NominalGHz = float64(c.Hz) / 1e9
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" {
				m.GOAMD64 = s.Value
			}
		}
	}
	sort.Strings(m.Features)
	if runtime.GOOS == "linux" {
		fillFromProc(&m)
	}
	if m.CPU == "" {
		m.CPU = "unknown " + runtime.GOARCH + " CPU"
	}
	return m
}

// fillFromProc completes what cpuid could not tell from /proc/cpuinfo and
// /sys (typical on arm64, where the brand string is not in cpuid).
func fillFromProc(m *schema.Machine) {
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "model name":
				if m.CPU == "" {
					m.CPU = v
				}
			case "CPU implementer":
				if m.Family == 0 {
					m.Family = parseInt(v)
				}
			case "CPU part":
				if m.Model == 0 {
					m.Model = parseInt(v)
				}
			case "CPU revision":
				if m.Stepping == 0 {
					m.Stepping = parseInt(v)
				}
			}
		}
	}
	// Cache sizes from sysfs when cpuid gave none.
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	for _, d := range dirs {
		level := readTrim(filepath.Join(d, "level"))
		typ := readTrim(filepath.Join(d, "type"))
		size := parseSize(readTrim(filepath.Join(d, "size")))
		if size <= 0 {
			continue
		}
		switch {
		case level == "1" && typ == "Data" && m.Cache.L1D == 0:
			m.Cache.L1D = size
		case level == "1" && typ == "Instruction" && m.Cache.L1I == 0:
			m.Cache.L1I = size
		case level == "2" && m.Cache.L2 == 0:
			m.Cache.L2 = size
		case level == "3" && m.Cache.L3 == 0:
			m.Cache.L3 = size
		}
	}
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// parseInt parses decimal or 0x-prefixed hexadecimal; 0 on error.
func parseInt(s string) int {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0
	}
	return int(v)
}

// parseSize parses sysfs cache sizes such as "48K" or "1024K" or "32M".
func parseSize(s string) int {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return v * mult
}

// Revision returns the VCS revision of the running binary, from the build
// info or else from git in the current directory, and whether the work tree
// had uncommitted changes. Both are best effort: "" when unknown.
func Revision() (rev string, modified bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev != "" {
		return rev, modified
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	rev = strings.TrimSpace(string(out))
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	return rev, err == nil && len(strings.TrimSpace(string(st))) > 0
}

// Slug turns a CPU name into a short file-name-safe identifier, e.g.
// "AMD EPYC 9R14 96-Core Processor" -> "amd-epyc-9r14-96-core-processor".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
