package vfs

import "io"

var zeros [64 << 10]byte

// WriteZeros writes zeros over [from, to) of w.
func WriteZeros(w io.WriterAt, from, to int64) error {
	for off := from; off < to; {
		n := min(int64(len(zeros)), to-off)
		if _, err := w.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}
