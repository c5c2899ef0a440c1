//go:build !linux

package segment

// prefault does nothing where MADV_POPULATE_WRITE does not exist.
func prefault([]byte) {}
