package nn

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/simdformer/simdformer/nn/safetensors"
)

// StateDict returns m's parameters by PyTorch state_dict key. The tensors
// are m's own (not copies).
func StateDict(m Module) map[string]*Tensor {
	out := map[string]*Tensor{}
	for _, nt := range NamedParameters(m) {
		out[nt.Name] = nt.Tensor
	}
	return out
}

func toFile(m Module) map[string]safetensors.Tensor {
	ts := map[string]safetensors.Tensor{}
	for _, nt := range NamedParameters(m) {
		ts[nt.Name] = safetensors.Tensor{DType: "F32", Shape: nt.Tensor.Shape, F32: nt.Tensor.Data}
	}
	return ts
}

// Save writes m's parameters to w in the safetensors format (F32) under
// their PyTorch state_dict keys, so torch's load_state_dict reads them.
func Save(w io.Writer, m Module, metadata map[string]string) error {
	return safetensors.Save(w, toFile(m), metadata)
}

// SaveFile is Save to a file, written atomically and durably (see
// safetensors.SaveFile). It stores no configuration: package transformer's
// SaveClassifier, SaveLM, … write files that rebuild their model.
func SaveFile(path string, m Module, metadata map[string]string) error {
	return safetensors.SaveFile(path, toFile(m), metadata)
}

// LoadOptions relaxes the checks of LoadFile and LoadStateDict. The zero
// value is strict, like PyTorch's load_state_dict(strict=True): every
// parameter of the module must be in the file and every tensor of the file
// must be a parameter. A shape mismatch is always an error.
type LoadOptions struct {
	// AllowMissing lets parameters absent from the file keep their values.
	AllowMissing bool
	// AllowUnexpected ignores tensors of the file that are not parameters.
	AllowUnexpected bool
}

// Strict is the zero LoadOptions, spelled out for call sites.
var Strict = LoadOptions{}

// NonStrict is PyTorch's load_state_dict(strict=False): missing and
// unexpected keys are both allowed.
var NonStrict = LoadOptions{AllowMissing: true, AllowUnexpected: true}

// LoadFile reads a safetensors file (any dtype the safetensors package
// converts to float32) into m's parameters by PyTorch state_dict key. Names
// and shapes are checked against the file's header before any tensor data
// is read, so a file that does not fit m costs no allocation for its data.
// Nothing is modified when an error is returned.
func LoadFile(path string, m Module, opt LoadOptions) error {
	r, err := safetensors.OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	named := NamedParameters(m)
	shapes := func(yield func(string, []int) bool) {
		for _, t := range r.Tensors() {
			if !yield(t.Name, t.Shape) {
				return
			}
		}
	}
	lookup := func(name string) ([]int, bool) {
		t, ok := r.Lookup(name)
		return t.Shape, ok
	}
	if err := checkState(named, shapes, lookup, len(r.Tensors()), opt); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Decode into fresh buffers first, so a bad value leaves m unchanged.
	data := make([][]float32, len(named))
	for i, nt := range named {
		if _, ok := r.Lookup(nt.Name); !ok {
			continue
		}
		data[i] = make([]float32, len(nt.Tensor.Data))
		if err := r.Read(nt.Name, data[i]); err != nil {
			return err
		}
	}
	for i, nt := range named {
		if data[i] != nil {
			copy(nt.Tensor.Data, data[i])
		}
	}
	return nil
}

// LoadStateDict copies tensors into m's parameters by name, with the
// checks of LoadFile. Nothing is modified when an error is returned.
func LoadStateDict(m Module, ts map[string]safetensors.Tensor, opt LoadOptions) error {
	named := NamedParameters(m)
	shapes := func(yield func(string, []int) bool) {
		for name, t := range ts {
			if !yield(name, t.Shape) {
				return
			}
		}
	}
	lookup := func(name string) ([]int, bool) {
		t, ok := ts[name]
		if ok && len(t.F32) != t.NumElements() {
			return nil, true // reported as a shape mismatch
		}
		return t.Shape, ok
	}
	if err := checkState(named, shapes, lookup, len(ts), opt); err != nil {
		return err
	}
	for _, nt := range named {
		if st, ok := ts[nt.Name]; ok {
			copy(nt.Tensor.Data, st.F32)
		}
	}
	return nil
}

// checkState compares the parameters with a file's names and shapes.
func checkState(named []NamedTensor, all func(func(string, []int) bool), lookup func(string) ([]int, bool), n int, opt LoadOptions) error {
	seen := 0
	var missing []string
	for _, nt := range named {
		shape, ok := lookup(nt.Name)
		if !ok {
			missing = append(missing, nt.Name)
			continue
		}
		seen++
		if !sameShape(shape, nt.Tensor.Shape) {
			return fmt.Errorf("nn: load: %s has shape %v in the file, the model wants %v", nt.Name, shape, nt.Tensor.Shape)
		}
	}
	var unexpected []string
	if !opt.AllowUnexpected && seen < n {
		params := make(map[string]bool, len(named))
		for _, nt := range named {
			params[nt.Name] = true
		}
		for name := range all {
			if !params[name] {
				unexpected = append(unexpected, name)
				if len(unexpected) == 20 {
					unexpected = append(unexpected, "…")
					break
				}
			}
		}
		sort.Strings(unexpected)
	}
	if opt.AllowMissing {
		missing = nil
	}
	if len(missing) > 0 || len(unexpected) > 0 {
		if len(missing) > 20 {
			missing = append(missing[:20], "…")
		}
		return fmt.Errorf("nn: load: missing keys [%s], unexpected keys [%s]", strings.Join(missing, ", "), strings.Join(unexpected, ", "))
	}
	return nil
}
