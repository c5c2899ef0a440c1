package shardlog_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/stretchr/testify/require"
)

const masterKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"

// keyRingFile writes a key ring with one key (aliases alias/aws/kinesis and
// alias/orders) and returns its path and the key's bytes.
func keyRingFile(t *testing.T) (string, []byte) {
	key := bytes.Repeat([]byte{0x5a, 0xa5, 0x3c, 0xc3}, 8)
	path := filepath.Join(t.TempDir(), "keys.json")
	doc := fmt.Sprintf(`{"keys":[{"id":%q,"aliases":["alias/aws/kinesis","alias/orders"],"key":%q}]}`, masterKeyID, base64.StdEncoding.EncodeToString(key))
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path, key
}

// filesContain reports whether any file under dir holds b.
func filesContain(t *testing.T, dir string, b []byte) bool {
	found := false
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(path)
		if err == nil && bytes.Contains(content, b) {
			found = true
		}
		return err
	}))
	return found
}

// readShard0 returns the data of shard 0's records, or the first error.
func readShard0(s *shardlog.Stream) ([]string, error) {
	var out []string
	for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if err != nil {
			return out, err
		}
		out = append(out, string(r.Data))
	}
	return out, nil
}

// TestEncryptionAtRest: with a key ring, the records put while a stream is
// encrypted reach the files sealed (no plaintext, no master key there),
// read back alike before, during and after encryption, and across a
// restart with the same ring; without the key they cannot be read.
func TestEncryptionAtRest(t *testing.T) {
	dir := t.TempDir()
	ringPath, masterKey := keyRingFile(t)
	open := func(withRing bool) (*shardlog.Account, *shardlog.Stream) {
		opts := []shardlog.Option{shardlog.WithDir(dir), shardlog.WithoutLimits()}
		if withRing {
			ring, err := shardlog.LoadKeyRing(ringPath)
			require.NoError(t, err)
			opts = append(opts, shardlog.WithKeyRing(ring))
		}
		a, err := shardlog.NewAccount(opts...)
		require.NoError(t, err)
		s, err := a.Stream(shardlog.StreamRef{StreamName: "s"})
		if err != nil {
			s = newStream(t, a, "s", 1)
		}
		return a, s
	}
	a, s := open(true)
	put(t, s, "k", "plain-before-AAAA")
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/orders"))
	r := put(t, s, "k", "secret-during-BBBB")
	require.Equal(t, shardlog.EncryptionKMS, r.EncryptionType)
	require.NoError(t, s.StopStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/orders"))
	put(t, s, "k", "plain-after-CCCC")
	want := []string{"plain-before-AAAA", "secret-during-BBBB", "plain-after-CCCC"}
	got, err := readShard0(s)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.NoError(t, a.Close())

	require.True(t, filesContain(t, dir, []byte("plain-before-AAAA")), "unencrypted records are stored as they are")
	require.False(t, filesContain(t, dir, []byte("secret-during-BBBB")), "an encrypted record's plaintext is nowhere")
	require.False(t, filesContain(t, dir, masterKey), "the master key is nowhere")

	a, s = open(true)
	got, err = readShard0(s)
	require.NoError(t, err)
	require.Equal(t, want, got, "after a restart with the ring")
	require.NoError(t, a.Close())

	a, s = open(false)
	defer a.Close()
	got, err = readShard0(s)
	require.ErrorIs(t, err, shardlog.ErrKMSNotFound, "without the key")
	require.Equal(t, want[:1], got, "the records before it read")
}

// TestEncryptionKeyErrors: unknown and disabled keys fail as KMS does, on
// StartStreamEncryption, puts and reads alike, and work again once the key
// is enabled.
func TestEncryptionKeyErrors(t *testing.T) {
	ring := shardlog.NewKeyRing()
	require.NoError(t, ring.AddKey(masterKeyID, bytes.Repeat([]byte{1}, 32), "alias/orders"))
	a, _ := newAccount(t, shardlog.WithKeyRing(ring))
	s := newStream(t, a, "s", 1)
	require.ErrorIs(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/missing"), shardlog.ErrKMSNotFound)
	require.ErrorIs(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "arn:aws:kms:us-east-1:123456789012:key/nope"), shardlog.ErrKMSNotFound)
	require.NoError(t, ring.DisableKey(masterKeyID))
	require.ErrorIs(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, masterKeyID), shardlog.ErrKMSDisabled)
	require.NoError(t, ring.EnableKey(masterKeyID))
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "arn:aws:kms:us-east-1:123456789012:key/"+masterKeyID))
	put(t, s, "k", "one")

	require.NoError(t, ring.DisableKey(masterKeyID))
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("two")})
	require.ErrorIs(t, err, shardlog.ErrKMSDisabled)
	_, err = s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("two")}})
	require.ErrorIs(t, err, shardlog.ErrKMSDisabled)
	it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.ErrorIs(t, err, shardlog.ErrKMSDisabled)

	require.NoError(t, ring.EnableKey(masterKeyID))
	put(t, s, "k", "two")
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 2)
	require.Equal(t, "one", string(out.Records[0].Data))
	require.Equal(t, "two", string(out.Records[1].Data))
}

// TestEncryptionDetectsTampering: a sealed record altered in its file is
// refused when read, never returned altered nor turned into an empty
// answer, and counted in the recovery report: whether the file's
// checksums catch it or, fixed to match by someone who knew to, only the
// data key does.
func TestEncryptionDetectsTampering(t *testing.T) {
	for _, fixChecksums := range []bool{false, true} {
		t.Run(fmt.Sprintf("checksums fixed=%v", fixChecksums), func(t *testing.T) {
			dir := t.TempDir()
			a, s, reopen := encryptedStream(t, dir)
			put(t, s, "k", "pay 100 to alice")
			require.NoError(t, a.Close())

			segment := tamper(t, dir, fixChecksums)

			a, s = reopen()
			it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
			require.NoError(t, err)
			out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
			require.ErrorIs(t, err, shardlog.ErrInternalFailure)
			require.Empty(t, out.Records)
			got, err := readShard0(s)
			require.ErrorIs(t, err, shardlog.ErrInternalFailure)
			require.Empty(t, got)
			if fixChecksums {
				require.Contains(t, err.Error(), "altered")
			}
			var files []string
			for _, c := range a.Recovery().Corrupt {
				files = append(files, c.File)
			}
			require.Contains(t, files, segment, "counted in the recovery report")
		})
	}
}

// encryptedStream opens a durable account in dir with a key ring and an
// encrypted stream "s" of one shard; reopen opens the account again, with
// the same ring, once the first is closed (the test closes it).
func encryptedStream(t *testing.T, dir string) (a *shardlog.Account, s *shardlog.Stream, reopen func() (*shardlog.Account, *shardlog.Stream)) {
	t.Helper()
	ringPath, _ := keyRingFile(t)
	ring, err := shardlog.LoadKeyRing(ringPath)
	require.NoError(t, err)
	open := func() *shardlog.Account {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithoutLimits(), shardlog.WithKeyRing(ring))
		require.NoError(t, err)
		return a
	}
	a = open()
	s = newStream(t, a, "s", 1)
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey))
	return a, s, func() (*shardlog.Account, *shardlog.Stream) {
		a := open()
		t.Cleanup(func() { a.Close() })
		s, err := a.Stream(shardlog.StreamRef{StreamName: "s"})
		require.NoError(t, err)
		return a, s
	}
}

// tamper changes "pay 100" to "pay 000" in the sealed record of the one
// segment file under dir, in place (the cipher is a stream cipher), and
// fixes the checksums of its frame and index if asked to. It returns the
// file's path.
func tamper(t *testing.T, dir string, fixChecksums bool) string {
	t.Helper()
	var segment string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".seg") {
			segment = path
		}
		return err
	}))
	require.NotEmpty(t, segment)
	b, err := os.ReadFile(segment)
	require.NoError(t, err)
	frame := b[segfile.HeaderSize:]
	dataLen := int(binary.LittleEndian.Uint32(frame[4:]))
	keyLen := int(binary.LittleEndian.Uint16(frame[8:]) & (1<<segfile.KeyBits - 1))
	require.Zero(t, keyLen, "the partition key is sealed with the data")
	require.Equal(t, 2+len("k")+len("pay 100 to alice")+16, dataLen, "sealed: the key's length, the key, the data and a tag")
	frame[segfile.FrameHeader+2+len("k")+4] ^= 0x01 // "pay 000": a forged amount
	require.NoError(t, os.WriteFile(segment, b, 0o600))
	if !fixChecksums {
		return segment
	}
	size := segfile.FrameSize(keyLen, dataLen)
	h, err := segfile.ParseHeader(b)
	require.NoError(t, err)
	binary.LittleEndian.PutUint32(frame[0:], crc32.Update(h.Seed(), crc32.MakeTable(crc32.Castagnoli), frame[4:size]))
	require.NoError(t, os.WriteFile(segment, b, 0o600))
	// The index's checksum of the file's frames must match too, if it has
	// one (a small file is scanned when opening): rewrite it.
	shard, _, _ := strings.Cut(filepath.Base(segment), "-")
	indexPath := filepath.Join(filepath.Dir(segment), shard+"-index")
	if index, err := os.ReadFile(indexPath); err == nil {
		var rewritten []byte
		segfile.ReadIndex(index, func(r segfile.IndexRecord) {
			r.FramesCRC = segfile.Checksum(b[segfile.HeaderSize:r.FramesEnd])
			rewritten = segfile.AppendIndexRecord(rewritten, r)
		})
		require.NoError(t, os.WriteFile(indexPath, rewritten, 0o600))
	}
	return segment
}

// TestEncryptedPartitionKeysAreNotOnDisk: a stream encrypted at rest
// keeps neither the data nor the partition key of its records in the
// clear in any file, and reads both back.
func TestEncryptedPartitionKeysAreNotOnDisk(t *testing.T) {
	const key, data = "marker-partition-key-5c1f", "marker-data-9e2b"
	dir := t.TempDir()
	a, s, reopen := encryptedStream(t, dir)
	for range 100 {
		put(t, s, key, data)
	}
	_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: key, Data: []byte(data), ExplicitHashKey: "7"}})
	require.NoError(t, err)
	for _, marker := range []string{key, data} {
		require.False(t, filesContain(t, dir, []byte(marker)), "%s in the clear, open", marker)
	}
	require.NoError(t, a.Close())
	for _, marker := range []string{key, data} {
		require.False(t, filesContain(t, dir, []byte(marker)), "%s in the clear, closed", marker)
	}

	_, s = reopen()
	n := 0
	for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		require.Equal(t, key, r.PartitionKey)
		require.Equal(t, data, string(r.Data))
		n++
	}
	require.Equal(t, 101, n)
}

// TestStopEncryptionNamesTheStreamsKey: StopStreamEncryption with a key
// other than the stream's is refused and changes nothing; the stream's key
// in another of its forms stops it; a stream not encrypted stops as is.
func TestStopEncryptionNamesTheStreamsKey(t *testing.T) {
	ringPath, _ := keyRingFile(t)
	ring, err := shardlog.LoadKeyRing(ringPath)
	require.NoError(t, err)
	other := bytes.Repeat([]byte{9}, 32)
	require.NoError(t, ring.AddKey("other-key", other, "alias/other"))
	withRing, _ := newAccount(t, shardlog.WithKeyRing(ring))
	without, _ := newAccount(t)
	for name, tc := range map[string]struct {
		a                 *shardlog.Account
		started, wrong    string
		sameInAnotherForm string
	}{
		"key ring":    {withRing, "alias/orders", "alias/other", "arn:aws:kms:us-east-1:123456789012:key/" + masterKeyID},
		"no key ring": {without, "alias/orders", "alias/other", "arn:aws:kms:us-east-1:123456789012:alias/orders"},
	} {
		s := newStream(t, tc.a, "s", 1)
		require.NoError(t, s.StopStreamEncryption(ctx, shardlog.EncryptionKMS, tc.wrong), "%s: not encrypted", name)
		require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, tc.started), name)
		err := s.StopStreamEncryption(ctx, shardlog.EncryptionKMS, tc.wrong)
		require.ErrorIs(t, err, shardlog.ErrInvalidArgument, name)
		require.Contains(t, err.Error(), tc.wrong, name)
		require.Equal(t, shardlog.EncryptionKMS, put(t, s, "k", "x").EncryptionType, "%s: still encrypted", name)
		require.NoError(t, s.StopStreamEncryption(ctx, shardlog.EncryptionKMS, tc.sameInAnotherForm), name)
		require.Equal(t, shardlog.EncryptionNone, put(t, s, "k", "x").EncryptionType, name)
	}
}

// TestEncryptionWithoutKeyRing: without a key ring encryption is a
// setting only, as before: records read back, reported as KMS.
func TestEncryptionWithoutKeyRing(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/anything"))
	require.Equal(t, shardlog.EncryptionKMS, put(t, s, "k", "x").EncryptionType)
	got, err := readShard0(s)
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, got)
}

// TestEncryptionWhileWriting: puts racing StartStreamEncryption and
// StopStreamEncryption all read back intact, whichever way each was
// stored.
func TestEncryptionWhileWriting(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithKeyRing(shardlog.NewKeyRing()))
	s := newStream(t, a, "s", 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			var err error
			if i%2 == 0 {
				err = s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey)
			} else {
				err = s.StopStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey)
			}
			if err != nil {
				t.Error(err)
			}
		}
	}()
	var want []string
	for i := range 500 {
		d := fmt.Sprintf("record-%03d", i)
		if i%2 == 0 {
			put(t, s, "k", d)
		} else {
			_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte(d)}})
			require.NoError(t, err)
		}
		want = append(want, d)
	}
	<-done
	got, err := readShard0(s)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// BenchmarkEncryption puts 100-byte records to a stream, and reads them
// back with Records, in the clear and sealed (WithKeyRing and
// StartStreamEncryption): the cost of encryption at rest per record.
func BenchmarkEncryption(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", sealed), func(b *testing.B) {
			s, err := shardlog.NewStream("bench", 1, shardlog.WithoutLimits(), shardlog.WithKeyRing(shardlog.NewKeyRing()))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if sealed {
				if err := s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey); err != nil {
					b.Fatal(err)
				}
			}
			data := make([]byte, 100)
			b.Run("put", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: data}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("read", func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for n < b.N {
					for _, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
						if err != nil {
							b.Fatal(err)
						}
						if n++; n == b.N {
							break
						}
					}
				}
			})
		})
	}
}

// TestEncryptionAcrossSegments: records sealed under the keys of many
// segments (files) read back, before and after a restart.
func TestEncryptionAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	ringPath, _ := keyRingFile(t)
	ring, err := shardlog.LoadKeyRing(ringPath)
	require.NoError(t, err)
	open := func() *shardlog.Account {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithoutLimits(), shardlog.WithKeyRing(ring), shardlog.WithSegmentSize(64<<10))
		require.NoError(t, err)
		return a
	}
	a := open()
	s := newStream(t, a, "s", 1)
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey))
	var want []string
	for i := range 2000 {
		d := fmt.Sprintf("%04d-%s", i, strings.Repeat("x", 100))
		put(t, s, "k", d)
		want = append(want, d)
	}
	got, err := readShard0(s)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.NoError(t, a.Close())
	files, err := filepath.Glob(filepath.Join(dir, "streams", "*", "0-*.seg"))
	require.NoError(t, err)
	require.Greater(t, len(files), 2, "many segment files")

	a = open()
	defer a.Close()
	s, err = a.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	got, err = readShard0(s)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestLoadKeyRingRefuses: a key ring file with a mistake is refused, with
// what is wrong.
func TestLoadKeyRingRefuses(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, doc := range map[string]string{
		"not json":        `{`,
		"unknown field":   `{"keys":[],"extra":1}`,
		"short key":       `{"keys":[{"id":"a","key":"AAAA"}]}`,
		"id with a slash": `{"keys":[{"id":"a/b","key":"` + key + `"}]}`,
		"twice the id":    `{"keys":[{"id":"a","key":"` + key + `"},{"id":"a","key":"` + key + `"}]}`,
		"twice the alias": `{"keys":[{"id":"a","aliases":["alias/x"],"key":"` + key + `"},{"id":"b","aliases":["alias/x"],"key":"` + key + `"}]}`,
		"bad alias":       `{"keys":[{"id":"a","aliases":["x"],"key":"` + key + `"}]}`,
	} {
		path := filepath.Join(t.TempDir(), "keys.json")
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
		_, err := shardlog.LoadKeyRing(path)
		require.Error(t, err, name)
	}
	_, err := shardlog.LoadKeyRing(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)

	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"keys":[{"id":"a","aliases":["alias/x"],"key":"`+key+`","enabled":false}]}`), 0o600))
	ring, err := shardlog.LoadKeyRing(path)
	require.NoError(t, err)
	a, _ := newAccount(t, shardlog.WithKeyRing(ring))
	require.ErrorIs(t, newStream(t, a, "s", 1).StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/x"), shardlog.ErrKMSDisabled, "loaded disabled")
}
