//go:build unix

package vfs

import "os"

// allocateByWriting reserves space where the file system cannot: it writes
// zeros over the part of [0, size) past the current end.
func allocateByWriting(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return WriteZeros(f, fi.Size(), size)
}
