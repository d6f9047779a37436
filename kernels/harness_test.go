package kernels

// The shared test harness of package kernels: run a test under every
// backend, the standard sizes and offsets, bit-exact comparison, seeded
// random data with special values, NaN sentinels around destinations and
// guard-page layouts. Tests using forEachBackend switch the global backend,
// so they must never call t.Parallel.

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/simdformer/simdformer/internal/guard"
)

// knownBackends lists every backend the project has; forEachBackend logs the
// ones this CPU (or build) lacks, so a skipped tier is visible in -v output.
var knownBackends = []string{"avx512", "avx2", "neon", "purego"}

// testSizes are the element counts every kernel is checked at: around the
// vector widths (4, 8, 16), the 32-lane reduction layout and unroll factors,
// plus two larger, odd sizes.
var testSizes = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4099}

// reduced reports whether big tests should shrink: -short, or arm64, which
// usually means emulation under qemu (5–300× slower).
func reduced() bool { return testing.Short() || runtime.GOARCH == "arm64" }

// sizesUpTo returns the test sizes ≤ max.
func sizesUpTo(max int) []int {
	var out []int
	for _, n := range testSizes {
		if n <= max {
			out = append(out, n)
		}
	}
	return out
}

// testOffsets are the start offsets (in elements) of operands inside a
// bigger buffer, so kernels see every 4-byte misalignment of a 16-byte vector.
var testOffsets = []int{0, 1, 2, 3}

// update rewrites golden files under testdata from the pure-Go backend
// (go test -run Golden -update ./kernels/). Review the diff: golden bits must
// never change silently.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(envChild) == "" {
		var missing []string
		for _, k := range knownBackends {
			if !contains(Backends(), k) {
				missing = append(missing, k)
			}
		}
		fmt.Printf("kernels: backend %q (available: %s; not on this CPU/build: %s)\n",
			Backend(), strings.Join(Backends(), ", "), strings.Join(missing, ", "))
	}
	os.Exit(m.Run())
}

var logMissing sync.Once

// forEachBackend runs fn as the subtest "backend=NAME" for every backend this
// CPU can run, with that backend active, restoring the previous one when the
// subtest ends. Backends the CPU lacks are logged on t.
func forEachBackend(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	avail := Backends()
	var missing []string
	for _, k := range knownBackends {
		if !contains(avail, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		logMissing.Do(func() {
			t.Logf("backends not available here (not tested): %s", strings.Join(missing, ", "))
		})
	}
	for _, name := range avail {
		t.Run("backend="+name, func(t *testing.T) {
			prev := Backend()
			if err := SetBackend(name); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := SetBackend(prev); err != nil {
					panic(err)
				}
			})
			fn(t)
		})
	}
}

// simdImpls returns the registered SIMD backends (every backend but purego),
// most preferred first, for tests that call impl entries directly against
// the pure-Go ones. It skips t, with a log line, when this CPU or build has
// none (purego tag, or an architecture without assembly kernels).
func simdImpls(t *testing.T) []*impl {
	t.Helper()
	var out []*impl
	for _, name := range Backends() {
		if name != "purego" {
			out = append(out, registeredImpl(t, name))
		}
	}
	if len(out) == 0 {
		t.Skipf("no SIMD backend on %s/%s in this build (available: %s)",
			runtime.GOOS, runtime.GOARCH, strings.Join(Backends(), ", "))
	}
	return out
}

// forEachImpl runs fn as the subtest "backend=NAME" for every SIMD backend
// (see simdImpls) without changing the active backend.
func forEachImpl(t *testing.T, fn func(t *testing.T, b *impl)) {
	t.Helper()
	for _, b := range simdImpls(t) {
		t.Run("backend="+b.name, func(t *testing.T) { fn(t, b) })
	}
}

// registeredImpl returns the registered backend name, failing tb when this
// CPU lacks it.
func registeredImpl(tb testing.TB, name string) *impl {
	tb.Helper()
	registryMu.Lock()
	b, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		tb.Fatalf("backend %q is not registered (available: %s)", name, strings.Join(Backends(), ", "))
	}
	return b
}

// rowSizes covers every tail of the 4-, 8-, 16-, 32- and 64-element blocks
// (twice over for the smaller ones), plus larger odd sizes.
func rowSizes() []int {
	var s []int
	for n := 0; n <= 130; n++ {
		s = append(s, n)
	}
	return append(s, 255, 256, 257, 1000, 4099)
}

// mixedData returns N(0, sigma²) values, with special values and random bit
// patterns mixed in when specials is set.
func mixedData(r *rand.Rand, n int, sigma float64, specials bool) []float32 {
	x := randNormal(r, n, 0, sigma)
	if specials {
		sprinkleSpecials(r, x, 0.05)
		for i := range x {
			if r.IntN(64) == 0 {
				x[i] = math.Float32frombits(r.Uint32())
			}
		}
	}
	return x
}

// withBackend runs fn with the named backend active and restores the previous
// one. Tests use withBackend("purego", ...) to compute reference results.
func withBackend(name string, fn func()) {
	prev := Backend()
	if err := SetBackend(name); err != nil {
		panic(err)
	}
	defer func() {
		if err := SetBackend(prev); err != nil {
			panic(err)
		}
	}()
	fn()
}

// reference runs fn under the pure-Go backend.
func reference(fn func()) { withBackend("purego", fn) }

// sameBits reports whether a and b are the same float32: identical bits, or
// both NaN (any payload). -0 and +0 differ.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// bitsEqual compares a and b bit for bit (NaN equal to NaN, -0 != +0). It
// returns the index of the first difference and false, or (-1, true). A
// length difference is reported at index min(len(a), len(b)).
func bitsEqual(a, b []float32) (int, bool) {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if !sameBits(a[i], b[i]) {
			return i, false
		}
	}
	if len(a) != len(b) {
		return n, false
	}
	return -1, true
}

// requireBitsEqual fails t unless got and want are bit-identical, reporting
// the first few differences with their bit patterns and the total count.
func requireBitsEqual(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if _, ok := bitsEqual(got, want); ok {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	var b strings.Builder
	count := 0
	for i := range got {
		if !sameBits(got[i], want[i]) {
			if count < 4 {
				fmt.Fprintf(&b, "\n  [%d] got %v (%#08x), want %v (%#08x)",
					i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
			count++
		}
	}
	t.Fatalf("%s: %d of %d elements differ:%s", what, count, len(got), b.String())
}

// requireSame fails t unless two scalars are bit-identical.
func requireSame(t testing.TB, what string, got, want float32) {
	t.Helper()
	if !sameBits(got, want) {
		t.Fatalf("%s: got %v (%#08x), want %v (%#08x)", what, got, math.Float32bits(got), want, math.Float32bits(want))
	}
}

// newRand returns a generator seeded from the test's name (and extra
// values), so every test sees fixed but different data.
func newRand(t testing.TB, extra ...uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	s := h.Sum64()
	for _, e := range extra {
		s = SplitMix64(s ^ e)
	}
	return rand.New(rand.NewPCG(s, 0x5eed))
}

// randFloats returns n values uniform in [lo, hi).
func randFloats(r *rand.Rand, n int, lo, hi float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = lo + float32(r.Float64()*float64(hi-lo))
	}
	return x
}

// randNormal returns n values from N(mu, sigma²).
func randNormal(r *rand.Rand, n int, mu, sigma float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(mu + sigma*r.NormFloat64())
	}
	return x
}

// randBits returns n arbitrary bit patterns (all classes: NaNs, infinities,
// subnormals, huge and tiny values).
func randBits(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(r.Uint32())
	}
	return x
}

// specialValues are mixed into inputs: signed zeros, infinities, NaN,
// subnormals, the extremes of the normal range and the edges of exp's range.
var specialValues = []float32{
	0, float32(math.Copysign(0, -1)),
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
	math.Float32frombits(0x007fffff), -math.Float32frombits(0x007fffff), // largest subnormal
	math.Float32frombits(0x00800000), // smallest normal
	math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 1e-30, -1e-30,
	1, -1, 0.5, -0.5, 2, 3,
	-87.3365478515625, -87.34, -88, -104, 88.3762626647949, 88.38, 89, 100, -100,
	1e-7, -1e-7, 6, -6, 10, -10,
}

// sprinkleSpecials overwrites about frac of x with special values.
func sprinkleSpecials(r *rand.Rand, x []float32, frac float64) {
	for i := range x {
		if r.Float64() < frac {
			x[i] = specialValues[r.IntN(len(specialValues))]
		}
	}
}

// clone returns a copy of x (nil stays nil).
func clone[T any](x []T) []T {
	if x == nil {
		return nil
	}
	return append(make([]T, 0, len(x)), x...)
}

// The sentinel a padded buffer is filled with: a quiet NaN with a payload no
// kernel produces, so both a stray write of a number and of a canonical NaN
// are detected.
const sentinelBits = 0x7fd1a5e5

const padLen = 19 // sentinel elements after an operand (more than a ZMM)

// padded returns a buffer of off+n+padLen sentinels and the operand
// buf[off:off+n] (capacity n, so append cannot reach the pads).
func padded(n, off int) (buf, s []float32) {
	buf = make([]float32, off+n+padLen)
	fillSentinel(buf)
	return buf, buf[off : off+n : off+n]
}

func fillSentinel(x []float32) {
	sv := math.Float32frombits(sentinelBits)
	for i := range x {
		x[i] = sv
	}
}

// checkPads fails t if any element of buf outside [off, off+n) was changed.
func checkPads(t testing.TB, what string, buf []float32, off, n int) {
	t.Helper()
	for i, v := range buf {
		if i >= off && i < off+n {
			continue
		}
		if math.Float32bits(v) != sentinelBits {
			t.Fatalf("%s: sentinel at %d (operand is [%d,%d)) overwritten with %v (%#08x)",
				what, i-off, 0, n, v, math.Float32bits(v))
		}
	}
}

// layout says where an arena places operands: at an offset inside a
// NaN-padded buffer, or flush against a guard page after (tail) or before
// (head) the operand.
type layout struct {
	name string
	off  int
	page int // 0: padded buffer, 1: guard page after, 2: guard page before
}

// testLayouts are the operand placements every kernel is checked with.
var testLayouts = func() []layout {
	var ls []layout
	for _, off := range testOffsets {
		ls = append(ls, layout{name: fmt.Sprintf("off=%d", off), off: off})
	}
	return append(ls, layout{name: "guard=tail", page: 1}, layout{name: "guard=head", page: 2})
}()

// arena allocates operands for one kernel call in one layout, remembers the
// padded buffers and checks their sentinels in done.
type arena struct {
	tb    testing.TB
	l     layout
	frees []func()
	pads  []padRec
}

type padRec struct {
	buf []float32
	off int
	n   int
}

func newArena(tb testing.TB, l layout) *arena { return &arena{tb: tb, l: l} }

// floats returns a zeroed operand of n elements placed per the layout,
// initialised to a copy of init when init is not nil (len(init) must be n).
func (a *arena) floats(n int, init []float32) []float32 {
	var s []float32
	switch a.l.page {
	case 0:
		var buf []float32
		buf, s = padded(n, a.l.off)
		a.pads = append(a.pads, padRec{buf, a.l.off, n})
		clear(s)
	case 1:
		var free func()
		s, free = guard.Float32s(n)
		a.frees = append(a.frees, free)
	default:
		var free func()
		s, free = guard.Float32sHead(n)
		a.frees = append(a.frees, free)
	}
	if init != nil {
		if len(init) != n {
			panic(fmt.Sprintf("arena.floats: len(init)=%d, n=%d", len(init), n))
		}
		copy(s, init)
	}
	return s
}

// from is floats(len(x), x); nil stays nil.
func (a *arena) from(x []float32) []float32 {
	if x == nil {
		return nil
	}
	return a.floats(len(x), x)
}

// bools returns a copy of init placed per the layout (no sentinel check:
// kernels only read bool operands). nil stays nil.
func (a *arena) bools(init []bool) []bool {
	if init == nil {
		return nil
	}
	n := len(init)
	var s []bool
	switch a.l.page {
	case 0:
		s = make([]bool, a.l.off+n+padLen)[a.l.off : a.l.off+n : a.l.off+n]
	case 1:
		var free func()
		s, free = guard.Bools(n)
		a.frees = append(a.frees, free)
	default:
		var free func()
		s, free = guard.BoolsHead(n)
		a.frees = append(a.frees, free)
	}
	copy(s, init)
	return s
}

// uint64s returns n zeroed words placed per the layout (padded layouts pad
// with a sentinel word that done checks).
func (a *arena) uint64s(n int) []uint64 {
	switch a.l.page {
	case 0:
		buf := make([]uint64, a.l.off+n+padLen)
		for i := range buf {
			buf[i] = sentinelWord
		}
		s := buf[a.l.off : a.l.off+n : a.l.off+n]
		clear(s)
		a.frees = append(a.frees, func() {
			for i, w := range buf {
				if (i < a.l.off || i >= a.l.off+n) && w != sentinelWord {
					a.tb.Errorf("%s: uint64 sentinel at %d (operand is [0,%d)) overwritten with %#x", a.l.name, i-a.l.off, n, w)
					return
				}
			}
		})
		return s
	case 1:
		s, free := guard.Uint64s(n)
		a.frees = append(a.frees, free)
		return s
	default:
		s, free := guard.Uint64sHead(n)
		a.frees = append(a.frees, free)
		return s
	}
}

const sentinelWord = 0xdeadbeefcafef00d

// done checks every padded operand's sentinels and releases guarded memory.
func (a *arena) done() {
	a.tb.Helper()
	for _, p := range a.pads {
		checkPads(a.tb, a.l.name, p.buf, p.off, p.n)
	}
	for _, f := range a.frees {
		f()
	}
	a.pads, a.frees = nil, nil
}

// forEachLayout calls fn once per test layout with a fresh arena, checking
// the sentinels afterwards. A memory fault inside fn (a guard page hit) is
// turned into a test failure naming the layout.
func forEachLayout(t *testing.T, fn func(a *arena)) {
	t.Helper()
	for _, l := range testLayouts {
		a := newArena(t, l)
		func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("layout %s: panic (out-of-bounds access?): %v", l.name, r)
				}
			}()
			fn(a)
		}()
		a.done()
	}
}

// mustPanic calls fn and fails t unless it panics with a message containing
// every one of the substrings.
func mustPanic(t testing.TB, what string, fn func(), substrings ...string) {
	t.Helper()
	msg, ok := panicMessage(fn)
	if !ok {
		t.Errorf("%s: did not panic", what)
		return
	}
	for _, s := range substrings {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: panic message %q does not contain %q", what, msg, s)
		}
	}
}

// panicMessage runs fn and returns its panic value as a string.
func panicMessage(fn func()) (msg string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, panicked = fmt.Sprint(r), true
		}
	}()
	fn()
	return "", false
}

// ulpDiff returns |got - want| in units of the float32 ulp at want (want is
// a float64 "true" value). The ulp of a value in the subnormal range is the
// smallest subnormal.
func ulpDiff(got float32, want float64) float64 {
	if math.IsNaN(want) || math.IsNaN(float64(got)) {
		if math.IsNaN(want) && math.IsNaN(float64(got)) {
			return 0
		}
		return math.Inf(1)
	}
	if math.IsInf(want, 0) || math.IsInf(float64(got), 0) {
		if float64(got) == want {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(float64(got)-want) / ulp32(want)
}

// ulp32 is the spacing of float32 numbers at |x| (x is float64).
func ulp32(x float64) float64 {
	x = math.Abs(x)
	if x < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(x) // x = f·2^e, f in [0.5, 1)
	return math.Ldexp(1, e-24)
}

// roundoff is the unit roundoff of float32, 2^-24.
const roundoff = 0x1p-24

// envChild marks a test binary started by a test of this package as a
// subprocess (see TestBackendEnv); TestMain then stays quiet.
const envChild = "SIMDFORMER_TEST_CHILD"
