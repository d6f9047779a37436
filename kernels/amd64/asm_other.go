//go:build !amd64 || purego

package amd64

// haveAsm reports whether this build contains the generated functions: not
// on other architectures or with the purego tag.
const haveAsm = false
