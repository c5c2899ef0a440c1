package shardlog

import (
	"bytes"
	"testing"

	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// TestSegmentKeys: each segment of each shard seals under a key of its
// own: what one sealed, no other segment's key opens; and the partition
// key is sealed with the data.
func TestSegmentKeys(t *testing.T) {
	d := &dataKey{gen: 1, root: bytes.Repeat([]byte{7}, 32)}
	var sl sealer
	sealed, err := sl.seal(d, 3, 10, 42, "marker-key", []byte("payload"))
	require.NoError(t, err)
	sealed = bytes.Clone(sealed)
	require.NotContains(t, string(sealed), "marker-key")
	require.Len(t, sealed, sealedSize("marker-key", []byte("payload")))
	own, err := d.segmentKey(3, 10)
	require.NoError(t, err)
	key, got, err := open(own, 3, 42, "", sealed)
	require.NoError(t, err)
	require.Equal(t, "marker-key", key)
	require.Equal(t, "payload", string(got))
	for _, other := range [][2]uint32{{3, 11}, {4, 10}} {
		aead, err := d.segmentKey(other[0], other[1])
		require.NoError(t, err)
		_, _, err = open(aead, 3, 42, "", sealed)
		require.Error(t, err, "segment %v", other)
	}
	_, _, err = open(own, 3, 43, "", sealed)
	require.Error(t, err, "another position")
	sealed[3] ^= 1
	_, _, err = open(own, 3, 42, "", sealed)
	require.Error(t, err, "altered")
}

// TestRecordsSealedWithTheirKeyOutsideOpen: a record sealed by a release
// that kept its partition key in the clear, as the additional data, still
// opens.
func TestRecordsSealedWithTheirKeyOutsideOpen(t *testing.T) {
	d := &dataKey{gen: 1, root: bytes.Repeat([]byte{7}, 32)}
	aead, err := d.segmentKey(3, 10)
	require.NoError(t, err)
	var nonce [12]byte
	nonce[3], nonce[11] = 3, 42
	sealed := aead.Seal(nil, nonce[:], []byte("payload"), []byte("k"))
	key, got, err := open(aead, 3, 42, "k", sealed)
	require.NoError(t, err)
	require.Equal(t, "k", key)
	require.Equal(t, "payload", string(got))
	_, _, err = open(aead, 3, 42, "other key", sealed)
	require.Error(t, err, "another partition key")
}

// TestEncryptedRecordsSurviveAPowerCut: under SyncAlways, every sealed
// record a put acknowledged is there, and opens, after a power cut; and
// the encryption setting and its data key with it.
func TestEncryptedRecordsSurviveAPowerCut(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	ring := NewKeyRing()
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10), WithKeyRing(ring))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	require.NoError(t, s.StartStreamEncryption(bg, EncryptionKMS, DefaultKMSKey))
	want := putAcrossSegments(t, s)
	fs.Crash()
	b := durable(t, fs.Process(), clk, WithKeyRing(ring))
	require.Equal(t, want, shardData(t, mustStream(t, b, "s")))
	r, err := mustStream(t, b, "s").Put(bg, PutInput{PartitionKey: "k", Data: []byte("after")})
	require.NoError(t, err)
	require.Equal(t, EncryptionKMS, r.EncryptionType, "still encrypted")
}
