//go:build unix

package agent

import (
	"os"
	"syscall"
)

// devIno returns the device and inode of fi, the file at path.
func devIno(path string, fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return devInoOf(path)
}

// devInoOf stats path again, for a FileInfo that does not carry them.
func devInoOf(path string) (dev, ino uint64) {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return 0, 0
	}
	return uint64(st.Dev), st.Ino
}
