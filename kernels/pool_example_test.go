package kernels_test

import (
	"fmt"

	"github.com/simdformer/simdformer/kernels"
)

// SetThreads bounds how many goroutines one kernel call may use; results
// are bit-identical for every setting.
func ExampleSetThreads() {
	kernels.SetThreads(1) // e.g. when the caller already runs one goroutine per core
	defer kernels.SetThreads(0)
	fmt.Println(kernels.Threads())
	// Output: 1
}
