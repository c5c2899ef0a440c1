package firehose

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/snappy"
)

// The compressions, Firehose's CompressionFormat.
const (
	Uncompressed Compression = "UNCOMPRESSED"
	GZIP         Compression = "GZIP"
	// ZIP makes each object a zip archive of one file, named as the
	// object without .zip.
	ZIP Compression = "ZIP"
	// Snappy is the Snappy framing format (snappy's "stream" format).
	Snappy Compression = "Snappy"
	// HadoopSnappy is Hadoop's SnappyCodec block format: blocks of up to
	// 256 KiB, each its length then its Snappy-compressed chunk with its
	// length, all lengths 4-byte big-endian.
	HadoopSnappy Compression = "HADOOP_SNAPPY"
)

// extension is the end of an object's name for the compression:
// Firehose's .gz for GZIP; shardlog's choice for the others, whose
// extensions Firehose does not document.
func (c Compression) extension() string {
	switch c {
	case GZIP:
		return ".gz"
	case ZIP:
		return ".zip"
	case Snappy:
		return ".snappy"
	case HadoopSnappy:
		return ".hsnappy"
	}
	return ""
}

// hadoopBlock is the block size of Hadoop's SnappyCodec
// (io.compression.codec.snappy.buffersize).
const hadoopBlock = 256 << 10

// compress compresses an object's body; key is the object's, which names
// a zip archive's file.
func (d *DeliveryStream) compress(body []byte, key string) []byte {
	var b bytes.Buffer
	switch d.cfg.Compression {
	case GZIP:
		w := gzip.NewWriter(&b)
		_, _ = w.Write(body)
		_ = w.Close()
	case ZIP:
		z := zip.NewWriter(&b)
		w, _ := z.CreateHeader(&zip.FileHeader{Name: strings.TrimSuffix(path.Base(key), ".zip"), Method: zip.Deflate,
			Modified: d.cfg.Clock.Now().UTC()})
		_, _ = w.Write(body)
		_ = z.Close()
	case Snappy:
		w := snappy.NewBufferedWriter(&b)
		_, _ = w.Write(body)
		_ = w.Close()
	case HadoopSnappy:
		var n [4]byte
		for len(body) > 0 {
			chunk := body[:min(len(body), hadoopBlock)]
			body = body[len(chunk):]
			enc := snappy.Encode(nil, chunk)
			b.Write(binary.BigEndian.AppendUint32(n[:0], uint32(len(chunk))))
			b.Write(binary.BigEndian.AppendUint32(n[:0], uint32(len(enc))))
			b.Write(enc)
		}
	default:
		return body
	}
	return b.Bytes()
}

// Decompress returns an object's body as delivered before compression,
// by its key's extension (.gz, .zip, .snappy, .hsnappy; any other is
// returned as is): for a Destination that loads objects, as a database
// does.
func Decompress(key string, body []byte) ([]byte, error) {
	switch {
	case strings.HasSuffix(key, GZIP.extension()):
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case strings.HasSuffix(key, ZIP.extension()):
		z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, err
		}
		if len(z.File) != 1 {
			return nil, fmt.Errorf("firehose: %s holds %d files, not one", key, len(z.File))
		}
		f, err := z.File[0].Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(f)
	case strings.HasSuffix(key, Snappy.extension()):
		return io.ReadAll(snappy.NewReader(bytes.NewReader(body)))
	case strings.HasSuffix(key, HadoopSnappy.extension()):
		var out []byte
		for len(body) > 0 {
			if len(body) < 8 {
				return nil, fmt.Errorf("firehose: %s: a cut Hadoop Snappy block", key)
			}
			n := binary.BigEndian.Uint32(body[4:])
			if uint64(len(body)-8) < uint64(n) {
				return nil, fmt.Errorf("firehose: %s: a cut Hadoop Snappy block", key)
			}
			chunk, err := snappy.Decode(nil, body[8:8+n])
			if err != nil {
				return nil, err
			}
			out, body = append(out, chunk...), body[8+n:]
		}
		return out, nil
	}
	return body, nil
}
