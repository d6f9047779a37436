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

// SaveFile is Save to a file.
func SaveFile(path string, m Module, metadata map[string]string) error {
	return safetensors.SaveFile(path, toFile(m), metadata)
}

// LoadFile reads a safetensors file (F32, or F16/BF16 converted) into m's
// parameters by PyTorch state_dict key; see LoadStateDict.
func LoadFile(path string, m Module, strict bool) error {
	ts, _, err := safetensors.LoadFile(path)
	if err != nil {
		return err
	}
	return LoadStateDict(m, ts, strict)
}

// LoadStateDict copies tensors into m's parameters by name. A shape mismatch
// is an error; with strict, so is a parameter missing from ts or a key of ts
// that is not a parameter (like torch's load_state_dict(strict=True)).
// Nothing is modified when an error is returned.
func LoadStateDict(m Module, ts map[string]safetensors.Tensor, strict bool) error {
	named := NamedParameters(m)
	seen := map[string]bool{}
	var missing []string
	for _, nt := range named {
		st, ok := ts[nt.Name]
		if !ok {
			missing = append(missing, nt.Name)
			continue
		}
		seen[nt.Name] = true
		if !sameShape(st.Shape, nt.Tensor.Shape) || len(st.F32) != len(nt.Tensor.Data) {
			return fmt.Errorf("nn: LoadStateDict: %s has shape %v in the file, the model wants %v", nt.Name, st.Shape, nt.Tensor.Shape)
		}
	}
	if strict {
		var unexpected []string
		for k := range ts {
			if !seen[k] {
				unexpected = append(unexpected, k)
			}
		}
		sort.Strings(unexpected)
		if len(missing) > 0 || len(unexpected) > 0 {
			return fmt.Errorf("nn: LoadStateDict: missing keys [%s], unexpected keys [%s]", strings.Join(missing, ", "), strings.Join(unexpected, ", "))
		}
	}
	for _, nt := range named {
		if st, ok := ts[nt.Name]; ok {
			copy(nt.Tensor.Data, st.F32)
		}
	}
	return nil
}
