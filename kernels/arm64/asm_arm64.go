//go:build !purego

package arm64

// haveAsm reports whether this build contains the generated functions.
const haveAsm = true
