package kernels

import (
	"reflect"
	"slices"
	"testing"
)

// TestKernelNamesCoverImpl keeps kernelNames and fillFrom in step with the
// impl struct: every func field is named, and filling an empty backend from
// the pure-Go one leaves no entry nil and reports every kernel as borrowed.
func TestKernelNamesCoverImpl(t *testing.T) {
	want := []string{"gemm"}
	typ := reflect.TypeOf(impl{})
	for i := 0; i < typ.NumField(); i++ {
		if typ.Field(i).Type.Kind() == reflect.Func {
			want = append(want, typ.Field(i).Name)
		}
	}
	if !slices.Equal(kernelNames, want) {
		t.Fatalf("kernelNames = %v\nimpl's kernels = %v", kernelNames, want)
	}

	b := &impl{name: "empty"}
	registryMu.Lock()
	fillFrom(b, &generic)
	registryMu.Unlock()
	defer func() {
		registryMu.Lock()
		delete(borrowedKernels, b)
		registryMu.Unlock()
	}()
	v := reflect.ValueOf(b).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() {
			t.Errorf("fillFrom left %s nil", typ.Field(i).Name)
		}
	}
	if b.gemm.kern == nil {
		t.Error("fillFrom left the GEMM kernel nil")
	}
	own, borrowed := ownKernels(b)
	if len(own) != 0 || !slices.Equal(borrowed, kernelNames) {
		t.Errorf("empty backend: own %v, borrowed %v; want everything borrowed", own, borrowed)
	}
	if own, borrowed := ownKernels(&generic); len(borrowed) != 0 || len(own) != len(kernelNames) {
		t.Errorf("purego: own %v, borrowed %v; want every kernel its own", own, borrowed)
	}
}
