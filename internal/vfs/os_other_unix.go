//go:build unix && !linux

package vfs

import (
	"os"
	"syscall"
	"unsafe"
)

func datasync(f *os.File) error { return f.Sync() }

func allocate(f *os.File, size int64) error { return allocateByWriting(f, size) }

func prefault([]byte) {}

func unmapPages([]byte) {}

func msync(b []byte) error {
	_, _, errno := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), syscall.MS_SYNC)
	if errno != 0 {
		return errno
	}
	return nil
}
