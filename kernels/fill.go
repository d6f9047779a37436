package kernels

import "reflect"

// fillFrom copies into b every kernel that b leaves nil, from base, so a
// backend under construction can register before it implements everything.
// kernelsMissing reports what a backend took from base.
func fillFrom(b, base *impl) {
	if b.gemm.kern == nil {
		b.gemm = base.gemm
	}
	bv, basev := reflect.ValueOf(b).Elem(), reflect.ValueOf(base).Elem()
	for i := 0; i < bv.NumField(); i++ {
		f := bv.Field(i)
		if f.Kind() == reflect.Func && f.IsNil() {
			src := reflect.NewAt(f.Type(), basev.Field(i).Addr().UnsafePointer()).Elem()
			reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem().Set(src)
		}
	}
}

// ownKernels lists the kernels of b that are its own code rather than
// borrowed from the pure-Go backend (tests use it to prove a backend is
// complete).
func ownKernels(b *impl) (own, borrowed []string) {
	bv, gv := reflect.ValueOf(b).Elem(), reflect.ValueOf(&generic).Elem()
	t := bv.Type()
	for i := 0; i < bv.NumField(); i++ {
		f := bv.Field(i)
		if f.Kind() != reflect.Func {
			continue
		}
		if f.Pointer() == gv.Field(i).Pointer() {
			borrowed = append(borrowed, t.Field(i).Name)
		} else {
			own = append(own, t.Field(i).Name)
		}
	}
	if b.gemm.kern != nil && reflect.ValueOf(b.gemm.kern).Pointer() == reflect.ValueOf(generic.gemm.kern).Pointer() {
		borrowed = append(borrowed, "gemm")
	} else {
		own = append(own, "gemm")
	}
	return own, borrowed
}
