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
	zeros := make([]byte, 64<<10)
	for off := fi.Size(); off < size; {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}
