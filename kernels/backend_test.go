package kernels

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestBackends(t *testing.T) {
	list := Backends()
	if !slices.Contains(list, "purego") {
		t.Fatalf("Backends() = %v, missing purego", list)
	}
	if list[len(list)-1] != "purego" {
		t.Errorf("Backends() = %v, want purego last", list)
	}
	if !slices.Contains(list, Backend()) {
		t.Errorf("Backend() = %q not in Backends() = %v", Backend(), list)
	}
	seen := map[string]bool{}
	for _, name := range list {
		if seen[name] {
			t.Errorf("Backends() = %v lists %q twice", list, name)
		}
		seen[name] = true
		if !slices.Contains(knownBackends, name) {
			t.Errorf("Backends() lists unknown backend %q", name)
		}
	}
	// The default is the most preferred backend this CPU runs.
	if os.Getenv("SIMDFORMER_BACKEND") == "" && Backend() != list[0] {
		t.Errorf("default Backend() = %q, want the first of %v", Backend(), list)
	}
}

func TestSetBackend(t *testing.T) {
	prev := Backend()
	defer SetBackend(prev)
	for _, name := range Backends() {
		if err := SetBackend(name); err != nil {
			t.Fatalf("SetBackend(%q): %v", name, err)
		}
		if got := Backend(); got != name {
			t.Fatalf("after SetBackend(%q), Backend() = %q", name, got)
		}
	}
	before := Backend()
	err := SetBackend("nope")
	if err == nil {
		t.Fatal(`SetBackend("nope") succeeded`)
	}
	for _, want := range append([]string{`"nope"`}, Backends()...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("SetBackend error %q does not mention %s", err, want)
		}
	}
	if Backend() != before {
		t.Errorf("failed SetBackend changed the backend from %q to %q", before, Backend())
	}
	// A backend this CPU lacks is refused the same way.
	for _, name := range knownBackends {
		if !slices.Contains(Backends(), name) {
			if err := SetBackend(name); err == nil {
				t.Errorf("SetBackend(%q) succeeded on a CPU that lacks it", name)
			}
		}
	}
}

// TestBackendEnvChild runs only inside the subprocess started by
// TestBackendEnv: it reports the backend chosen at init.
func TestBackendEnvChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("helper for TestBackendEnv")
	}
	os.Stdout.WriteString("BACKEND=" + Backend() + "\n")
}

func TestBackendEnv(t *testing.T) {
	if testing.Short() && len(Backends()) == 1 {
		t.Skip("only purego here")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	run := func(env string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(exe, "-test.run=^TestBackendEnvChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=1", "SIMDFORMER_BACKEND="+env)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Skipf("cannot run the test binary as a subprocess (%v): %s", err, errb.String())
		}
		return out.String(), errb.String()
	}
	for _, name := range Backends() {
		out, _ := run(name)
		if !strings.Contains(out, "BACKEND="+name+"\n") {
			t.Errorf("SIMDFORMER_BACKEND=%s: child reported %q", name, out)
		}
	}
	// An unknown name keeps the cpuid choice and says so on stderr.
	out, errOut := run("nope")
	if !strings.Contains(out, "BACKEND="+Backends()[0]+"\n") {
		t.Errorf("SIMDFORMER_BACKEND=nope: child reported %q, want the default %q", out, Backends()[0])
	}
	if !strings.Contains(errOut, "nope") {
		t.Errorf("SIMDFORMER_BACKEND=nope: stderr %q does not mention it", errOut)
	}
}

// TestBackendKernels logs, per backend, which kernels are its own code and
// which it still borrows from purego (a borrowed kernel is trivially
// bit-identical, so the cross-backend tests say nothing about it).
func TestBackendKernels(t *testing.T) {
	for _, name := range Backends() {
		registryMu.Lock()
		b := registry[name]
		registryMu.Unlock()
		own, borrowed := ownKernels(b)
		if name == "purego" {
			continue
		}
		t.Logf("%s: own %d kernels %v; borrowed from purego: %v", name, len(own), own, borrowed)
	}
}
