//go:build !unix

package atomicfile

// syncDirectory is a no-op where directories cannot be opened and synced
// (Windows, js/wasm, wasip1, Plan 9): the rename is the last step there.
func syncDirectory(string) error { return nil }
