// Package manifest is the codec of a durable account's manifest: the
// metadata of every stream (names, incarnations, status times, settings,
// tags, shards and their lineage, consumers, the UpdateShardCount history)
// and the account's iterator-token key. It is small and changes only
// with control-plane calls, so it is rewritten whole each time, by atomic
// replacement.
//
// The file is a 20-byte header — magic "SHLGMAN\x00", format version,
// length of the body, CRC-32C of the body, all little-endian — and a JSON
// body. A newer version is refused with ErrNewer; a short or garbled file
// with ErrCorrupt.
package manifest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// Version is the format version written; every version up to it is read.
// Version 2 added resource-based policies and data keys (a version 1
// reader would drop them on its next write); version 3 says that shards
// share their stream's directory (a version 2 reader would take their
// files for leftovers and delete them).
const Version = 3

const headerSize = 20

var (
	magic      = [8]byte{'S', 'H', 'L', 'G', 'M', 'A', 'N', 0}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// Errors of decoding.
var (
	ErrCorrupt = errors.New("manifest: corrupt")
	ErrNewer   = errors.New("manifest: written by a newer version of shardlog")
)

// Manifest is the metadata of an account. Times are Unix nanoseconds, 0
// for none.
type Manifest struct {
	Region          string   `json:"region"`
	AccountID       string   `json:"accountId"`
	TokenKey        []byte   `json:"tokenKey"`
	LastIncarnation uint32   `json:"lastIncarnation"`
	Streams         []Stream `json:"streams"`
}

// Stream is a stream's metadata.
type Stream struct {
	Name           string            `json:"name"`
	Incarnation    uint32            `json:"incarnation"`
	Created        int64             `json:"created"`
	Active         int64             `json:"active"`
	Updating       int64             `json:"updating,omitempty"`
	Deleted        int64             `json:"deleted,omitempty"`
	Gone           int64             `json:"gone,omitempty"`
	RetentionHours int               `json:"retentionHours"`
	RetentionRest  int64             `json:"retentionRestNanos,omitempty"` // beyond whole hours, in ns (EmbeddedLog)
	Mode           string            `json:"mode"`
	Encryption     string            `json:"encryption"`
	KeyID          string            `json:"keyId,omitempty"`
	Metrics        []string          `json:"metrics,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	ScalingOps     []int64           `json:"scalingOps,omitempty"`
	ModeSwitches   []int64           `json:"modeSwitches,omitempty"` // UpdateStreamMode switches in the last 24 hours
	NextShard      uint32            `json:"nextShard"`
	Shards         []Shard           `json:"shards"`
	Consumers      []Consumer        `json:"consumers,omitempty"`
	Policy         string            `json:"policy,omitempty"` // resource-based policy document
	DataKeys       []DataKey         `json:"dataKeys,omitempty"`
	EncryptionGen  int               `json:"encryptionGen,omitempty"` // the data key new records are encrypted with; 0: none
}

// DataKey is a stream's data key of one generation, wrapped by the KMS
// master key KeyID (nonce, encrypted key and tag of AES-256-GCM): never in
// the clear.
type DataKey struct {
	Gen     int    `json:"gen"`
	KeyID   string `json:"keyId"`
	Wrapped []byte `json:"wrapped"`
}

// Shard is a shard's metadata; its records are in its own files.
type Shard struct {
	Index    uint32   `json:"index"`
	Start    string   `json:"start"` // hash keys, decimal
	End      string   `json:"end"`
	Parents  []string `json:"parents,omitempty"`
	Created  int64    `json:"created"`
	ClosedAt int64    `json:"closedAt,omitempty"` // 0 while open
	Head     uint64   `json:"head,omitempty"`     // first live position, as last known
	Next     uint64   `json:"next,omitempty"`     // the position after the newest record durable, as last known
}

// Consumer is a registered consumer.
type Consumer struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	Created int64  `json:"created"`
	Deleted int64  `json:"deleted,omitempty"`
	Policy  string `json:"policy,omitempty"` // resource-based policy document
}

// Encode returns the file bytes of m.
func Encode(m *Manifest) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	b := make([]byte, headerSize, headerSize+len(body))
	copy(b, magic[:])
	binary.LittleEndian.PutUint32(b[8:], Version)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(body, castagnoli))
	return append(b, body...), nil
}

// Decode reads a manifest file.
func Decode(b []byte) (*Manifest, error) {
	if len(b) < headerSize || [8]byte(b[:8]) != magic {
		return nil, fmt.Errorf("%w: not a shardlog manifest", ErrCorrupt)
	}
	le := binary.LittleEndian
	switch v := le.Uint32(b[8:]); {
	case v == 0:
		return nil, fmt.Errorf("%w: format version 0", ErrCorrupt)
	case v > Version:
		return nil, fmt.Errorf("%w (format version %d; this one reads %d)", ErrNewer, v, Version)
	}
	n := le.Uint32(b[12:])
	if uint64(len(b)-headerSize) != uint64(n) {
		return nil, fmt.Errorf("%w: %d bytes of body, header says %d", ErrCorrupt, len(b)-headerSize, n)
	}
	body := b[headerSize:]
	if crc32.Checksum(body, castagnoli) != le.Uint32(b[16:]) {
		return nil, fmt.Errorf("%w: checksum", ErrCorrupt)
	}
	m := new(Manifest)
	if err := json.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}
