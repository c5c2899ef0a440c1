package agent

import (
	"hash/fnv"
	"io"
	"os"
)

// fileID tells files apart: the device and inode a file has while it
// exists, and a fingerprint of its first bytes, so that a file that reuses
// a deleted file's inode is not taken for it.
type fileID struct {
	Dev, Ino uint64
	FPLen    int    // how many first bytes the fingerprint covers
	FP       uint64 // FNV-1a of them
}

// fpMax is how many first bytes a fingerprint covers at most.
const fpMax = 1024

// fingerprint returns the fingerprint of f's first n bytes (fewer if it is
// shorter), and how many it covers.
func fingerprint(f *os.File, n int) (uint64, int, error) {
	b := make([]byte, n)
	got, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return 0, 0, err
	}
	h := fnv.New64a()
	h.Write(b[:got])
	return h.Sum64(), got, nil
}

// sameFile reports whether f, whose device and inode are id's, still holds
// the bytes id's fingerprint covers.
func sameFile(f *os.File, id fileID) bool {
	fp, n, err := fingerprint(f, id.FPLen)
	return err == nil && n == id.FPLen && fp == id.FP
}
