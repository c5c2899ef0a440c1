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

// grow extends id's fingerprint with b, read at offset off, while it
// covers fewer than fpMax bytes and b follows them: a file found empty (as
// one is just after a rotation) gets a fingerprint from its first lines,
// so that content written over it later is not taken for it.
func (id *fileID) grow(off int64, b []byte) {
	if off != int64(id.FPLen) || id.FPLen >= fpMax {
		return
	}
	b = b[:min(len(b), fpMax-id.FPLen)]
	h := id.FP // FNV-1a's state is its sum so far
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211 // FNV's 64-bit prime
	}
	id.FP, id.FPLen = h, id.FPLen+len(b)
}

// sameFile reports whether f, whose device and inode are id's, still holds
// the bytes id's fingerprint covers.
func sameFile(f *os.File, id fileID) bool {
	fp, n, err := fingerprint(f, id.FPLen)
	return err == nil && n == id.FPLen && fp == id.FP
}
