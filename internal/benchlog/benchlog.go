// Package benchlog writes the log the agent's benchmarks tail, in the root
// module and in the aws module alike, so that their figures compare.
package benchlog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Write writes a log of SHARDLOG_AGENT_BENCH_MB megabytes (64 by default;
// docs/benchmarks.md's figures are of 1024) of numbered 100-byte lines in a
// temporary directory of b, and returns its path and line count.
func Write(b *testing.B) (path string, lines int) {
	b.Helper()
	mb := 64
	if v := os.Getenv("SHARDLOG_AGENT_BENCH_MB"); v != "" {
		var err error
		if mb, err = strconv.Atoi(v); err != nil || mb <= 0 {
			b.Fatalf("SHARDLOG_AGENT_BENCH_MB=%q: want a number of megabytes", v)
		}
	}
	path = filepath.Join(b.TempDir(), "app.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	lines = mb << 20 / 100
	for i := range lines {
		fmt.Fprintf(w, "%-99d\n", i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return path, lines
}
