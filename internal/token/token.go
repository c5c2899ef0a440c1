// Package token encodes small binary payloads into opaque, tamper-evident
// strings: shard iterators and pagination tokens. A token is
// base64url(version | kind | payload | MAC), the MAC a truncated
// HMAC-SHA256 under a per-account random key, so a forged, garbled or foreign
// token is rejected before any of its fields is trusted.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

const (
	version = 1
	macLen  = 16
)

// Kind separates token families, so a pagination token is never accepted as
// an iterator and the reverse.
type Kind byte

// Token kinds.
const (
	Iterator Kind = iota + 1
	ListShards
	ListStreams
	ListConsumers
)

// ErrInvalid reports a token that was not encoded by this codec for this kind.
var ErrInvalid = errors.New("token: invalid")

// Codec encodes and decodes tokens. It is safe for concurrent use.
type Codec struct {
	key [32]byte
}

// NewCodec returns a codec with a fresh random key.
func NewCodec() *Codec {
	c := new(Codec)
	if _, err := rand.Read(c.key[:]); err != nil {
		panic("token: no randomness: " + err.Error())
	}
	return c
}

// NewCodecWithKey returns a codec with the given key: one kept from an
// earlier run, so that tokens it encoded still decode.
func NewCodecWithKey(key [32]byte) *Codec { return &Codec{key: key} }

// Key returns the codec's key, for keeping.
func (c *Codec) Key() [32]byte { return c.key }

// Encode returns the token for payload.
func (c *Codec) Encode(kind Kind, payload []byte) string {
	buf := make([]byte, 0, 2+len(payload)+sha256.Size)
	buf = append(buf, version, byte(kind))
	buf = append(buf, payload...)
	buf = c.mac(buf)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (c *Codec) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write(msg)
	sum := m.Sum(msg)
	return sum[:len(msg)+macLen]
}

// Decode checks tok and returns its payload.
func (c *Codec) Decode(kind Kind, tok string) ([]byte, error) {
	if len(tok) > base64.RawURLEncoding.EncodedLen(1024) {
		return nil, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 2+macLen || raw[0] != version || Kind(raw[1]) != kind {
		return nil, ErrInvalid
	}
	body := raw[:len(raw)-macLen]
	want := c.mac(append([]byte(nil), body...))
	if !hmac.Equal(want[len(body):], raw[len(body):]) {
		return nil, ErrInvalid
	}
	return body[2:], nil
}

// Writer appends fixed-width big-endian fields to a payload.
type Writer struct{ B []byte }

// U32 appends v.
func (w *Writer) U32(v uint32) { w.B = binary.BigEndian.AppendUint32(w.B, v) }

// U64 appends v.
func (w *Writer) U64(v uint64) { w.B = binary.BigEndian.AppendUint64(w.B, v) }

// Str appends a length-prefixed string of at most 65535 bytes.
func (w *Writer) Str(s string) {
	w.B = binary.BigEndian.AppendUint16(w.B, uint16(len(s)))
	w.B = append(w.B, s...)
}

// Reader takes fields back out of a payload. After a short read every
// further call returns zero and Err reports the failure.
type Reader struct {
	B   []byte
	bad bool
}

// U32 reads a uint32.
func (r *Reader) U32() uint32 {
	if len(r.B) < 4 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint32(r.B)
	r.B = r.B[4:]
	return v
}

// U64 reads a uint64.
func (r *Reader) U64() uint64 {
	if len(r.B) < 8 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint64(r.B)
	r.B = r.B[8:]
	return v
}

// Str reads a length-prefixed string.
func (r *Reader) Str() string {
	if len(r.B) < 2 {
		r.bad = true
		return ""
	}
	n := int(binary.BigEndian.Uint16(r.B))
	if len(r.B) < 2+n {
		r.bad = true
		return ""
	}
	s := string(r.B[2 : 2+n])
	r.B = r.B[2+n:]
	return s
}

// Err returns ErrInvalid if a read ran short or bytes are left over.
func (r *Reader) Err() error {
	if r.bad || len(r.B) != 0 {
		return ErrInvalid
	}
	return nil
}
