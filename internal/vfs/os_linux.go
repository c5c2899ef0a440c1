//go:build linux

package vfs

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// allocate reserves the blocks (fallocate, mode 0 also extends the size),
// so writes through a mapping cannot meet ENOSPC later, which would be a
// SIGBUS.
func allocate(f *os.File, size int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
		if err != syscall.EINTR {
			if err == syscall.EOPNOTSUPP {
				return allocateByWriting(f, size)
			}
			return err
		}
	}
}

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault the pages
// in at once rather than one by one as appends first touch them.
const madvPopulateWrite = 23

// prefault readies a new mapping for writing, so that the appends that
// follow run at memory speed: the pages are faulted in at once, then each
// is written to (an atomic add of zero, which changes nothing), since the
// first write to a page of a shared file mapping is slow even once it is
// populated, many times slower than the writes that follow.
func prefault(b []byte) {
	if len(b) == 0 {
		return
	}
	_ = syscall.Madvise(b, madvPopulateWrite) // best effort
	page := os.Getpagesize()
	for i := 0; i+4 <= len(b); i += page {
		atomic.AddUint32((*uint32)(unsafe.Pointer(&b[i])), 0)
	}
}

func msync(b []byte) error {
	_, _, errno := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), syscall.MS_SYNC)
	if errno != 0 {
		return errno
	}
	return nil
}

// unmapPages drops b's pages from the mapping, keeping them and their
// changes in the page cache; a later access maps them again. Syncing a page
// still mapped write-protects it first, which flushes it from every CPU's
// TLB, one page at a time: with a writer running on another CPU that took
// a third of SyncEvery's CPU time here. Dropped together, the pages cost
// one flush, and the sync finds them unmapped. Appends have moved past
// the pages a sync covers wholly, so they are not mapped again.
func unmapPages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
