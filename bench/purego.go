//go:build purego

package main

// purego records in the results that the tool was built with -tags purego.
const purego = true
