package transformer

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// StatefulOptimizer is an optimizer whose state a checkpoint can hold
// (optim.Adam, optim.SGD).
type StatefulOptimizer interface {
	State() optim.State
	SetState(optim.State) error
}

// TrainState is the training-loop state a checkpoint stores besides the
// weights and the optimizer: where the run is.
type TrainState struct {
	// Step counts the training steps taken (learning-rate schedules
	// resume from it).
	Step int
	// DataPosition is the caller's position in its data stream (a sample
	// index, a byte offset, …).
	DataPosition int64
	// Extra holds any other string the caller wants back (e.g. the state of
	// its shuffling generator).
	Extra map[string]string
}

const checkpointFormat = "simdformer-checkpoint-1"

// SaveCheckpoint writes a training checkpoint to path (a safetensors file,
// written to a temporary name and renamed): m's parameters ("model.<key>",
// F32), the optimizer's state ("optim.<name>") and, as metadata, its step
// count, st, the seed of every dropout site of m and the dropout stream of
// the training graph g (its seed and step), so LoadCheckpoint into a
// freshly built model, optimizer and graph continues the run bit for bit
// (same masks, same moments, same schedule position). Call it between
// training steps: it resets g, ending the step (tensors of g become
// invalid), so that the saved dropout step is the next pass's. g may be
// nil when the run has no dropout.
func SaveCheckpoint(path string, m nn.Module, opt StatefulOptimizer, g *nn.Graph, st TrainState) error {
	ts := map[string]safetensors.Tensor{}
	for _, nt := range nn.NamedParameters(m) {
		ts["model."+nt.Name] = safetensors.Tensor{Shape: nt.Tensor.Shape, F32: nt.Tensor.Data}
	}
	meta := map[string]string{"format": checkpointFormat, "step": strconv.Itoa(st.Step),
		"data_position": strconv.FormatInt(st.DataPosition, 10)}
	if opt != nil {
		ost := opt.State()
		for name, b := range ost.Buffers {
			ts["optim."+name] = safetensors.Tensor{Shape: []int{len(b)}, F32: b}
		}
		meta["optim_step"] = strconv.Itoa(ost.Step)
	}
	sites, err := dropoutSites(m)
	if err != nil {
		return err
	}
	js, err := json.Marshal(sites)
	if err != nil {
		return err
	}
	meta["dropout"] = string(js)
	g.Reset()
	meta["graph_seed"] = strconv.FormatUint(g.Seed(), 10)
	meta["graph_step"] = strconv.FormatUint(g.Step(), 10)
	if len(st.Extra) > 0 {
		ex, err := json.Marshal(st.Extra)
		if err != nil {
			return err
		}
		meta["extra"] = string(ex)
	}
	return safetensors.SaveFile(path, ts, meta)
}

// LoadCheckpoint restores a SaveCheckpoint file into m (same architecture;
// every parameter must be there with its shape), opt (built over the same
// parameters in the same order, with the same hyperparameters; may be nil),
// m's dropout site seeds and the dropout stream of g (the graph the run
// continues with; may be nil), and returns the training state. Nothing is
// changed when an error is returned.
func LoadCheckpoint(path string, m nn.Module, opt StatefulOptimizer, g *nn.Graph) (TrainState, error) {
	ts, meta, err := safetensors.LoadFile(path)
	if err != nil {
		return TrainState{}, err
	}
	if meta["format"] != checkpointFormat {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s is not a checkpoint (format %q)", path, meta["format"])
	}
	var st TrainState
	if st.Step, err = strconv.Atoi(meta["step"]); err != nil {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: step: %w", path, err)
	}
	if st.DataPosition, err = strconv.ParseInt(meta["data_position"], 10, 64); err != nil {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: data_position: %w", path, err)
	}
	if ex, ok := meta["extra"]; ok {
		if err := json.Unmarshal([]byte(ex), &st.Extra); err != nil {
			return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: extra: %w", path, err)
		}
	}
	var sites map[string]uint64
	if err := json.Unmarshal([]byte(meta["dropout"]), &sites); err != nil {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: dropout: %w", path, err)
	}
	gseed, err := strconv.ParseUint(meta["graph_seed"], 10, 64)
	if err != nil {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: graph_seed: %w", path, err)
	}
	gstep, err := strconv.ParseUint(meta["graph_step"], 10, 64)
	if err != nil {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: graph_step: %w", path, err)
	}
	model := map[string]safetensors.Tensor{}
	ost := optim.State{Buffers: map[string][]float32{}}
	for k, t := range ts {
		switch {
		case strings.HasPrefix(k, "model."):
			model[strings.TrimPrefix(k, "model.")] = t
		case strings.HasPrefix(k, "optim."):
			ost.Buffers[strings.TrimPrefix(k, "optim.")] = t.F32
		default:
			return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: unexpected tensor %s", path, k)
		}
	}
	// Check everything before changing anything.
	have, err := dropoutSites(m)
	if err != nil {
		return TrainState{}, err
	}
	if len(have) != len(sites) {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s has %d dropout sites, the model %d", path, len(sites), len(have))
	}
	for p := range have {
		if _, ok := sites[p]; !ok {
			return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s has no dropout site %q", path, p)
		}
	}
	for _, nt := range nn.NamedParameters(m) {
		t, ok := model[nt.Name]
		if !ok || !slices.Equal(t.Shape, nt.Tensor.Shape) {
			return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: parameter %s missing or of another shape", path, nt.Name)
		}
	}
	if len(model) != len(nn.NamedParameters(m)) {
		return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s holds %d parameters, the model %d", path, len(model), len(nn.NamedParameters(m)))
	}
	if opt != nil {
		if ost.Step, err = strconv.Atoi(meta["optim_step"]); err != nil {
			return TrainState{}, fmt.Errorf("transformer: LoadCheckpoint: %s: optim_step: %w", path, err)
		}
		old := opt.State()
		if err := opt.SetState(ost); err != nil {
			return TrainState{}, err
		}
		if err := nn.LoadStateDict(m, model, nn.Strict); err != nil {
			opt.SetState(old) // cannot fail: it is the optimizer's own state
			return TrainState{}, err
		}
	} else if err := nn.LoadStateDict(m, model, nn.Strict); err != nil {
		return TrainState{}, err
	}
	if err := setDropoutSites(m, sites); err != nil {
		return TrainState{}, err
	}
	if g != nil {
		g.SetSeed(gseed)
		g.SetStep(gstep)
	}
	return st, nil
}

// dropoutSites returns the seed of every module of m that embeds
// nn.DropoutSite, by module path.
func dropoutSites(m nn.Module) (map[string]uint64, error) {
	out := map[string]uint64{}
	var err error
	nn.Walk(m, func(path string, mod nn.Module) {
		s := siteOf(mod)
		if s == nil {
			return
		}
		if _, dup := out[path]; dup && err == nil {
			err = fmt.Errorf("transformer: two dropout sites at %q", path)
		}
		out[path] = s.Seed
	})
	return out, err
}

func setDropoutSites(m nn.Module, sites map[string]uint64) error {
	var missing []string
	nn.Walk(m, func(path string, mod nn.Module) {
		if s := siteOf(mod); s != nil {
			v, ok := sites[path]
			if !ok {
				missing = append(missing, path)
				return
			}
			s.Seed = v
		}
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return errors.New("transformer: LoadCheckpoint: no state for dropout sites " + strings.Join(missing, ", "))
	}
	return nil
}

var siteType = reflect.TypeFor[nn.DropoutSite]()

// siteOf returns the nn.DropoutSite embedded in mod (a pointer to a
// struct), or nil.
func siteOf(mod nn.Module) *nn.DropoutSite {
	v := reflect.ValueOf(mod)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("DropoutSite")
	if !f.IsValid() || f.Type() != siteType || !f.CanAddr() {
		return nil
	}
	return f.Addr().Interface().(*nn.DropoutSite)
}
