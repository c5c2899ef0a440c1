//go:build !unix

package main

// fitOpenFileLimit leaves the cap as it is where there is no open-file limit
// to read.
func fitOpenFileLimit(conns int) int { return conns }
