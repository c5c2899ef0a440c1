package firehose_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/firehose"
)

// TestCompressions: each compression's object reads back, with the
// standard readers of its format, as the records delivered.
func TestCompressions(t *testing.T) {
	records := []string{"one\n", strings.Repeat("two ", 100_000) + "\n", "three\n"} // over a Hadoop block
	want := strings.Join(records, "")
	for _, tc := range []struct {
		c    firehose.Compression
		ext  string
		read func(key string, b []byte) string
	}{
		{firehose.Uncompressed, "", func(_ string, b []byte) string { return string(b) }},
		{firehose.GZIP, ".gz", func(_ string, b []byte) string {
			r, err := gzip.NewReader(bytes.NewReader(b))
			require.NoError(t, err)
			out, err := io.ReadAll(r)
			require.NoError(t, err)
			return string(out)
		}},
		{firehose.ZIP, ".zip", func(key string, b []byte) string {
			z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			require.NoError(t, err)
			require.Len(t, z.File, 1)
			require.Equal(t, strings.TrimSuffix(key[strings.LastIndexByte(key, '/')+1:], ".zip"), z.File[0].Name)
			f, err := z.File[0].Open()
			require.NoError(t, err)
			out, err := io.ReadAll(f)
			require.NoError(t, err)
			return string(out)
		}},
		{firehose.Snappy, ".snappy", func(_ string, b []byte) string {
			out, err := io.ReadAll(snappy.NewReader(bytes.NewReader(b)))
			require.NoError(t, err)
			return string(out)
		}},
		{firehose.HadoopSnappy, ".hsnappy", func(_ string, b []byte) string {
			var out []byte
			for len(b) > 0 {
				raw, n := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
				require.LessOrEqual(t, raw, uint32(256<<10))
				chunk, err := snappy.Decode(nil, b[8:8+n])
				require.NoError(t, err)
				require.Len(t, chunk, int(raw))
				out, b = append(out, chunk...), b[8+n:]
			}
			return string(out)
		}},
	} {
		t.Run(string(tc.c), func(t *testing.T) {
			r := newRig(t, firehose.Config{Compression: tc.c, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60}}, 1)
			r.run()
			put(t, r.d, records...)
			r.await(time.Second, func() bool { return len(objects(t, r.dir)) == 1 })
			for key, body := range objects(t, r.dir) {
				require.Regexp(t, `-[0-9a-f-]{36}`+regexp.QuoteMeta(tc.ext)+`$`, key)
				require.Equal(t, want, tc.read(key, body))
				back, err := firehose.Decompress(key, body)
				require.NoError(t, err)
				require.Equal(t, want, string(back), "Decompress reads it back")
			}
		})
	}
}
