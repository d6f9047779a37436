//go:build !purego

package amd64

// haveAsm reports whether this build contains the generated functions.
const haveAsm = true
