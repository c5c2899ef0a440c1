//go:build unix

package agent

import (
	"os"
	"syscall"
)

// devIno returns the device and inode of fi, the file at path (os.Stat's
// FileInfo carries them on every Unix).
func devIno(_ string, fi os.FileInfo) (dev, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), st.Ino
}
