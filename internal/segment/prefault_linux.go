//go:build linux

package segment

import (
	"os"
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault the pages in
// now, as if written, without touching their contents.
const madvPopulateWrite = 23

var pageSize = uintptr(os.Getpagesize())

// prefault maps a new slab's pages in one call instead of one page fault per
// page as appends first touch them. On virtual machines each first touch is
// expensive; BenchmarkAppend shows the difference.
// It is best effort: older kernels refuse the advice and nothing changes.
func prefault(b []byte) {
	if len(b) < 64<<10 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p+pageSize-1)&^(pageSize-1) - p
	end := (p+uintptr(len(b)))&^(pageSize-1) - p
	if end > start {
		_ = syscall.Madvise(b[start:end], madvPopulateWrite)
	}
}
