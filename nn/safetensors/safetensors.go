// Package safetensors reads and writes the safetensors weight format used by
// Hugging Face and PyTorch, with every tensor held as float32.
//
// A file is an 8-byte little-endian header length N, an N-byte JSON header
// and a data section. The header maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// start of the data section) and may hold a "__metadata__" string→string
// map. Data is row-major and little-endian.
//
// Reading converts every supported dtype to float32: F32 as is; F16, BF16,
// F8_E5M2 and F8_E4M3 exactly (subnormals, ±Inf and NaN included); F64
// rounded to nearest even; BOOL and the integer dtypes (I8…I64, U8…U64) when
// every value is an exact float32 (|v| ≤ 2^24 or otherwise representable),
// so token ids and position buffers load. Any other dtype is an error.
//
// Reading is hardened against malformed and hostile files: the header
// length is capped at MaxHeaderSize and at the file size, the JSON must be
// valid with no duplicate keys, shapes must be non-negative and their sizes
// must not overflow, and the tensors' byte spans must match their shapes and
// tile the data section exactly (contiguous from 0, no overlap, no hole, no
// trailing bytes), as the reference Rust implementation demands. Such
// errors wrap ErrFormat. Memory is bounded by what the file justifies: the
// header is parsed in place by a scanner that makes no per-token garbage,
// with at most MaxRank dimensions per tensor, MaxTensors tensors and
// MaxMetadata metadata entries, so reading a header takes a small multiple
// of its size (about 2.5× for one packed with empty tensors, 1× for a
// shape of millions of dimensions, which is refused at the 17th); tensor
// data takes 4 bytes per element, each element backed by 1 to 8 bytes of
// the file.
//
// Load and LoadFile read a whole file into a map. NewReader and OpenFile
// read only the header; a loader can compare the tensors' names and shapes
// (Reader.Tensors, Reader.Lookup) with what it expects before allocating
// anything, then decode each tensor into its own buffer (Reader.Read).
//
// Writing (Save) produces what the reference implementation produces:
// tensors laid out by decreasing element size and then by name, the header
// padded with spaces to a multiple of 8 bytes, so equal inputs give
// byte-identical files. SaveFile writes atomically and durably (temporary
// file, fsync, rename, directory fsync), keeping an existing file's mode
// and symbolic link.
package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/simdformer/simdformer/internal/atomicfile"
)

// MaxHeaderSize is the largest JSON header accepted (100 MB, the reference
// implementation's limit).
const MaxHeaderSize = 100_000_000

// Tensor is one named array of a safetensors file.
type Tensor struct {
	// DType is the element type on disk ("F32", "F16", "BF16", "I64", …).
	// Load sets it; Save writes F32 when it is "" or "F32", and F16 or BF16
	// (rounded to nearest even) when it says so.
	DType string
	// Shape lists the dimensions, outermost first; empty for a scalar.
	Shape []int
	// F32 holds the elements in row-major order, converted to float32.
	F32 []float32
}

// NumElements is the product of t.Shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// chunkSize bounds the scratch buffer used to stream tensor data.
const chunkSize = 1 << 16

// Reader reads the tensors of a safetensors file one at a time. Making it
// reads and checks the header (see the package comment for what is
// checked); tensor data is read only when asked for, straight into the
// caller's slice, so a loader can compare names and shapes with what it
// expects before it allocates anything for the data. Its methods are safe
// for concurrent use when the underlying io.ReaderAt is (an *os.File is).
type Reader struct {
	r         io.ReaderAt
	closer    io.Closer // the file OpenFile opened; nil for NewReader
	path      string    // for messages; "" for NewReader
	dataStart int64
	h         *header
}

// NewReader reads and checks the header of a safetensors file of size
// bytes held by r. A malformed header gives an error wrapping ErrFormat; it
// never panics, and the memory it takes is a small multiple of the header's
// size (see MaxRank, MaxTensors and MaxMetadata).
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if size < 8 {
		return nil, formatErr(fmt.Sprintf("file of %d bytes is shorter than the 8-byte header length", size))
	}
	// Make sure the reader really holds size bytes before sizing anything by it.
	var last [8]byte
	if err := readAt(r, last[:1], size-1); err != nil {
		return nil, fmt.Errorf("safetensors: reading byte %d of a file of %d bytes: %w", size-1, size, err)
	}
	if err := readAt(r, last[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading the header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(last[:])
	if n > MaxHeaderSize {
		return nil, formatErr(fmt.Sprintf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize))
	}
	if n > uint64(size-8) {
		return nil, formatErr(fmt.Sprintf("header length %d exceeds the %d bytes after it", n, size-8))
	}
	// Read the header into a string without a second copy: the parser
	// hands out substrings of it.
	var sb strings.Builder
	sb.Grow(int(n))
	if _, err := io.Copy(&sb, io.NewSectionReader(r, 8, int64(n))); err != nil {
		return nil, fmt.Errorf("safetensors: reading the header: %w", err)
	}
	if sb.Len() != int(n) {
		return nil, fmt.Errorf("safetensors: reading the header: %w", io.ErrUnexpectedEOF)
	}
	dataStart := 8 + int64(n)
	h, err := parseHeader(sb.String(), uint64(size-dataStart))
	if err != nil {
		return nil, err
	}
	return &Reader{r: r, dataStart: dataStart, h: h}, nil
}

// OpenFile opens the safetensors file at path and reads its header; see
// NewReader. Close the Reader when done.
func OpenFile(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer, r.path = f, path
	return r, nil
}

// Close closes the file OpenFile opened (nothing for NewReader).
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Tensors describes every tensor of the file, sorted by name. The slice
// and the shapes are the Reader's: do not modify them.
func (r *Reader) Tensors() []TensorInfo { return r.h.tensors }

// Metadata returns the "__metadata__" map (nil when absent). It is the
// Reader's: do not modify it.
func (r *Reader) Metadata() map[string]string { return r.h.meta }

// Lookup returns the description of the tensor called name.
func (r *Reader) Lookup(name string) (TensorInfo, bool) {
	i, ok := slices.BinarySearchFunc(r.h.tensors, name, func(t TensorInfo, name string) int { return strings.Compare(t.Name, name) })
	if !ok {
		return TensorInfo{}, false
	}
	return r.h.tensors[i], true
}

// Read decodes the tensor called name into dst, converting its dtype to
// float32 (see the package comment); len(dst) must be its number of
// elements. An integer or BOOL value without an exact float32 gives an
// error wrapping ErrFormat; dst may then hold part of the tensor.
func (r *Reader) Read(name string, dst []float32) error {
	t, ok := r.Lookup(name)
	if !ok {
		return r.wrap(fmt.Errorf("safetensors: no tensor %q", truncate(name)))
	}
	if n := t.NumElements(); len(dst) != n {
		return fmt.Errorf("safetensors: Reader.Read: tensor %q has %d elements (shape %v), dst has %d", truncate(name), n, t.Shape, len(dst))
	}
	esize := dtypeSize[t.DType]
	buf := make([]byte, min(chunkSize, len(dst)*esize))
	perChunk := chunkSize / esize
	for i := 0; i < len(dst); i += perChunk {
		m := min(perChunk, len(dst)-i)
		b := buf[:m*esize]
		if err := readAt(r.r, b, r.dataStart+int64(t.begin)+int64(i)*int64(esize)); err != nil {
			return r.wrap(fmt.Errorf("safetensors: reading tensor %q: %w", truncate(name), err))
		}
		if bad := decode(dst[i:i+m], b, t.DType); bad >= 0 {
			return r.wrap(formatErr(fmt.Sprintf("tensor %q: element %d of dtype %s has no exact float32 value",
				truncate(name), i+bad, t.DType)))
		}
	}
	return nil
}

func (r *Reader) wrap(err error) error {
	if r.path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// ReadAll decodes every tensor (see Read) and returns them by name.
func (r *Reader) ReadAll() (map[string]Tensor, error) {
	tensors := make(map[string]Tensor, len(r.h.tensors))
	for _, t := range r.h.tensors {
		data := make([]float32, t.NumElements())
		if err := r.Read(t.Name, data); err != nil {
			return nil, err
		}
		tensors[t.Name] = Tensor{DType: t.DType, Shape: t.Shape, F32: data}
	}
	return tensors, nil
}

// Load reads a safetensors file of size bytes from r. It returns the tensors
// by name and the "__metadata__" map (nil when absent). A malformed file
// gives an error wrapping ErrFormat; it never panics, and it allocates no
// more than a small multiple of size. To check names and shapes before
// reading any data, use NewReader.
func Load(r io.ReaderAt, size int64) (map[string]Tensor, map[string]string, error) {
	rd, err := NewReader(r, size)
	if err != nil {
		return nil, nil, err
	}
	tensors, err := rd.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	return tensors, rd.Metadata(), nil
}

// readAt is r.ReadAt that accepts io.EOF together with a full read, as the
// io.ReaderAt contract allows at the end of the input.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// LoadFile reads the safetensors file at path; see Load and OpenFile.
func LoadFile(path string) (map[string]Tensor, map[string]string, error) {
	r, err := OpenFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	tensors, err := r.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	return tensors, r.Metadata(), nil
}

// Save writes tensors and metadata (which may be nil) in the safetensors
// format. Each tensor must have len(F32) equal to the product of its
// non-negative Shape; DType "" or "F32" writes F32, "F16" and "BF16" convert
// with round-to-nearest-even. Tensor names and metadata must be valid UTF-8,
// and no tensor may be called "__metadata__". The output is deterministic:
// tensors ordered by decreasing element size, then name; the header padded
// with spaces to a multiple of 8 bytes.
func Save(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	type item struct {
		name  string
		t     Tensor
		esize int
	}
	items := make([]item, 0, len(tensors))
	for name, t := range tensors {
		if name == "__metadata__" {
			return errors.New("safetensors: a tensor cannot be named __metadata__")
		}
		if !utf8.ValidString(name) {
			return fmt.Errorf("safetensors: tensor name %q is not valid UTF-8", name)
		}
		esize, err := encodeSize(t.DType)
		if err != nil {
			return fmt.Errorf("%w (tensor %q)", err, name)
		}
		n := uint64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q has negative dimension in shape %v", name, t.Shape)
			}
			var hi uint64
			if hi, n = bits.Mul64(n, uint64(d)); hi != 0 {
				return fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, t.Shape)
			}
		}
		if n != uint64(len(t.F32)) {
			return fmt.Errorf("safetensors: tensor %q has shape %v (%d elements) but %d values", name, t.Shape, n, len(t.F32))
		}
		items = append(items, item{name, t, esize})
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: metadata entry %q is not valid UTF-8", k)
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].esize != items[j].esize {
			return items[i].esize > items[j].esize
		}
		return items[i].name < items[j].name
	})

	// Header: {"__metadata__":{…sorted…},"name":{"dtype":…,"shape":[…],"data_offsets":[b,e]},…}
	hdr := []byte{'{'}
	sep := false
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hdr = append(hdr, `"__metadata__":{`...)
		for i, k := range keys {
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = appendJSONString(hdr, k)
			hdr = append(hdr, ':')
			hdr = appendJSONString(hdr, metadata[k])
		}
		hdr = append(hdr, '}')
		sep = true
	}
	off := uint64(0)
	for _, it := range items {
		if sep {
			hdr = append(hdr, ',')
		}
		sep = true
		dt := it.t.DType
		if dt == "" {
			dt = "F32"
		}
		hdr = appendJSONString(hdr, it.name)
		hdr = fmt.Appendf(hdr, `:{"dtype":%q,"shape":[`, dt)
		for i, d := range it.t.Shape {
			if i > 0 {
				hdr = append(hdr, ',')
			}
			hdr = fmt.Appendf(hdr, "%d", d)
		}
		end := off + uint64(len(it.t.F32)*it.esize)
		hdr = fmt.Appendf(hdr, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	hdr = append(hdr, '}')
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	if len(hdr) > MaxHeaderSize {
		return fmt.Errorf("safetensors: header of %d bytes exceeds the limit of %d", len(hdr), MaxHeaderSize)
	}

	bw := bufio.NewWriterSize(w, chunkSize)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	bw.Write(lenBuf[:])
	bw.Write(hdr)
	scratch := make([]byte, 0, chunkSize)
	for _, it := range items {
		dt := it.t.DType
		for i := 0; i < len(it.t.F32); i += chunkSize / 4 {
			chunk := it.t.F32[i:min(i+chunkSize/4, len(it.t.F32))]
			scratch = encode(scratch[:0], chunk, dt)
			if _, err := bw.Write(scratch); err != nil {
				return fmt.Errorf("safetensors: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// appendJSONString appends s as a JSON string literal (no HTML escaping).
func appendJSONString(dst []byte, s string) []byte {
	var sb jsonBuffer
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a valid UTF-8 string always encodes
	b := sb.b
	return append(dst, b[:len(b)-1]...) // drop Encode's newline
}

type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }

// SaveFile writes the tensors to path (see Save) atomically and durably:
// through a temporary file in the same directory that is fsynced and
// renamed into place, then the directory is fsynced, so a reader or a crash
// never sees a half-written file. An existing file keeps its permission
// bits (a new one gets 0644 under the umask), a symbolic link is written
// through to its target, and no temporary file is left on error.
func SaveFile(path string, tensors map[string]Tensor, metadata map[string]string) error {
	return atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error { return Save(w, tensors, metadata) })
}
