package shardlog_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkFsyncFloor is what the disk under $TMPDIR allows a plain loop
// that appends records of 126 bytes (a 100-byte payload, a 16-byte key and
// a small header) to a file: one fdatasync per record, one per 500, and
// none. The durable benchmarks are read beside it.
func BenchmarkFsyncFloor(b *testing.B) {
	for _, bench := range []struct {
		name  string
		batch int
		sync  bool
	}{{"record", 1, true}, {"batch500", 500, true}, {"nosync", 500, false}} {
		b.Run(bench.name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "floor"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 126*bench.batch)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if bench.sync {
					if err := syscall.Fdatasync(int(f.Fd())); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*bench.batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
