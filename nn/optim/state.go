package optim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// State is an optimizer's internal state, for checkpoints: the number of
// steps taken and its per-parameter buffers by name, PyTorch's state names
// with the parameter's index in Params ("exp_avg.3", "exp_avg_sq.3",
// "max_exp_avg_sq.3", "momentum_buffer.3"). Buffers returned by State are
// copies.
type State struct {
	Step    int
	Buffers map[string][]float32
}

// Names returns the buffer names in a fixed order (by name).
func (s State) Names() []string {
	out := make([]string, 0, len(s.Buffers))
	for k := range s.Buffers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func putBufs(dst map[string][]float32, name string, bufs [][]float32) {
	for i, b := range bufs {
		dst[name+"."+strconv.Itoa(i)] = append([]float32(nil), b...)
	}
}

// takeBufs returns copies of name.0 … name.{n-1} from s, checked against
// the parameter sizes, or nil when s has none of them.
func takeBufs(op string, s State, name string, sizes []int, used map[string]bool) ([][]float32, error) {
	if _, ok := s.Buffers[name+".0"]; !ok && len(sizes) > 0 {
		return nil, nil
	}
	out := make([][]float32, len(sizes))
	for i, n := range sizes {
		k := name + "." + strconv.Itoa(i)
		b, ok := s.Buffers[k]
		if !ok {
			return nil, fmt.Errorf("optim: %s.SetState: missing %s", op, k)
		}
		if len(b) != n {
			return nil, fmt.Errorf("optim: %s.SetState: %s has %d values, parameter %d has %d", op, k, len(b), i, n)
		}
		out[i] = append([]float32(nil), b...)
		used[k] = true
	}
	return out, nil
}

func unexpected(op string, s State, used map[string]bool) error {
	var extra []string
	for k := range s.Buffers {
		if !used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("optim: %s.SetState: unexpected buffers %s", op, strings.Join(extra, ", "))
	}
	return nil
}

// State returns a copy of Adam's state: the step count and the moments
// exp_avg, exp_avg_sq (and max_exp_avg_sq with AMSGrad), none before the
// first step.
func (o *Adam) State() State {
	s := State{Step: o.t, Buffers: map[string][]float32{}}
	putBufs(s.Buffers, "exp_avg", o.m)
	putBufs(s.Buffers, "exp_avg_sq", o.v)
	putBufs(s.Buffers, "max_exp_avg_sq", o.vmax)
	return s
}

// SetState restores a state State returned (for the same parameters, in
// the same order); the next Step continues bit for bit. Nothing changes on
// error.
func (o *Adam) SetState(s State) error {
	sz := make([]int, len(o.Params))
	for i, p := range o.Params {
		sz[i] = len(p.Data)
	}
	if s.Step < 0 {
		return fmt.Errorf("optim: Adam.SetState: negative step %d", s.Step)
	}
	used := map[string]bool{}
	m, err := takeBufs("Adam", s, "exp_avg", sz, used)
	if err != nil {
		return err
	}
	v, err := takeBufs("Adam", s, "exp_avg_sq", sz, used)
	if err != nil {
		return err
	}
	vmax, err := takeBufs("Adam", s, "max_exp_avg_sq", sz, used)
	if err != nil {
		return err
	}
	if (m == nil) != (v == nil) || (m == nil) != (s.Step == 0) {
		return fmt.Errorf("optim: Adam.SetState: step %d with exp_avg %v and exp_avg_sq %v", s.Step, m != nil, v != nil)
	}
	if err := unexpected("Adam", s, used); err != nil {
		return err
	}
	o.t, o.m, o.v, o.vmax = s.Step, m, v, vmax
	return nil
}

// State returns a copy of SGD's state: momentum_buffer (after the first
// step with momentum) and Step, the number of steps taken.
func (o *SGD) State() State {
	s := State{Step: o.steps, Buffers: map[string][]float32{}}
	putBufs(s.Buffers, "momentum_buffer", o.buf)
	return s
}

// SetState restores a state State returned for the same parameters.
// Nothing changes on error.
func (o *SGD) SetState(s State) error {
	sz := make([]int, len(o.Params))
	for i, p := range o.Params {
		sz[i] = len(p.Data)
	}
	used := map[string]bool{}
	b, err := takeBufs("SGD", s, "momentum_buffer", sz, used)
	if err != nil {
		return err
	}
	if err := unexpected("SGD", s, used); err != nil {
		return err
	}
	o.buf, o.steps = b, s.Step
	return nil
}
