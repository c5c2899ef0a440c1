// Package memstat measures a test's or benchmark's memory: the heap in use
// after a collection, and the process's resident set.
package memstat

import (
	"fmt"
	"os"
	"runtime"
)

// HeapAlloc returns the bytes of heap in use after a collection.
func HeapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Resident returns the process's resident set in bytes, from /proc; 0
// where there is none.
func Resident() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, pages int64
	if _, err := fmt.Sscan(string(b), &size, &pages); err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
