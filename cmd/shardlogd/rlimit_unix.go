//go:build unix

package main

import "syscall"

// fitOpenFileLimit lowers a connection cap to leave room, under the
// process's open-file limit, for the listener, logs and a margin.
func fitOpenFileLimit(conns int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return conns
	}
	return max(1, min(conns, int(lim.Cur)-32))
}
