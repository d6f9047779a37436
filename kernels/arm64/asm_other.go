//go:build !arm64 || purego

package arm64

// haveAsm reports whether this build contains the generated functions: not
// on other architectures or with the purego tag.
const haveAsm = false
