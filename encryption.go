package shardlog

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/internal/segfile"
)

// Encryption at rest (WithKeyRing): a stream encrypted with
// StartStreamEncryption seals each record's data with AES-256-GCM under a
// data key of its segment (the slab, or a durable shard's file, that holds
// it). Segment keys are derived (HKDF-SHA256, over the shard's index and
// the segment's number) from a root key made for the stream and the master
// key that the KMS key ID names, and kept only wrapped by that master key.
// The root key's generation (1 to 63) is stored with every record (see
// internal/segfile), so that records written before, during and after
// encryption, or under different KMS keys, read back alike. The nonce is
// the shard's index and the record's position, unique under a key; the
// partition key is authenticated too, so a record moved or altered on disk
// fails to open rather than read wrong.

// sealOverhead is what sealing adds to a record's data: the GCM tag.
const sealOverhead = 16

// A sealed record holds its partition key with its data, so that neither
// is on disk in the clear: the plaintext is the key's length (2 bytes,
// big-endian), the key, then the data. Its frame stores no key.
const keyPrefix = 2

// sealedSize is the size of a record of key and data once sealed.
func sealedSize(key string, data []byte) int {
	return keyPrefix + len(key) + len(data) + sealOverhead
}

// dataKey is one generation of a stream's root data keys.
type dataKey struct {
	gen     uint8
	keyID   string     // the master key's ID
	master  *masterKey // nil if the ring lacks it
	wrapped []byte     // as the manifest keeps it
	root    []byte     // the key segment keys derive from; nil if err
	err     error      // why it cannot be used (the master key is missing)
}

// segmentKey derives the AES-256-GCM key of segment slab of shard index.
func (d *dataKey) segmentKey(index, slab uint32) (cipher.AEAD, error) {
	var info [4 + 4 + 16]byte
	copy(info[8:], "shardlog segment")
	binary.BigEndian.PutUint32(info[:], index)
	binary.BigEndian.PutUint32(info[4:], slab)
	key, err := hkdf.Key(sha256.New, d.root, nil, string(info[:]), 32)
	if err != nil {
		return nil, err
	}
	return gcm(key)
}

// usable reports whether the data key may seal and open now.
func (d *dataKey) usable() error {
	if d.err != nil {
		return d.err
	}
	return d.master.usable()
}

// sealer is a shard's sealing state, used under its lock: the key of the
// segment it seals into, and scratch space (what an AEAD is given escapes,
// and would be allocated per record).
type sealer struct {
	key   *dataKey // aead is of this root key's...
	slab  uint32   // ...segment
	aead  cipher.AEAD
	nonce [12]byte
	plain []byte
	out   []byte
}

// seal returns key and data sealed for the record at pos of shard index,
// in segment slab, in space of sl's that the next call reuses.
func (sl *sealer) seal(d *dataKey, index, slab uint32, pos uint64, key string, data []byte) ([]byte, error) {
	if sl.aead == nil || sl.key != d || sl.slab != slab {
		aead, err := d.segmentKey(index, slab)
		if err != nil {
			return nil, err
		}
		sl.key, sl.slab, sl.aead = d, slab, aead
	}
	binary.BigEndian.PutUint32(sl.nonce[:], index)
	binary.BigEndian.PutUint64(sl.nonce[4:], pos)
	sl.plain = binary.BigEndian.AppendUint16(sl.plain[:0], uint16(len(key)))
	sl.plain = append(append(sl.plain, key...), data...)
	sl.out = sl.aead.Seal(sl.out[:0], sl.nonce[:], sl.plain, nil)
	clear(sl.plain) // a record's plaintext does not outlive its sealing
	return sl.out, nil
}

// open returns the partition key and data sealed under aead, both in one
// new allocation. A frame that stores a key (clearKey) is of a release
// that sealed only the data, with the key as additional data.
func open(aead cipher.AEAD, index uint32, pos uint64, clearKey string, sealed []byte) (string, []byte, error) {
	// The nonce shares the allocation: what an AEAD is given escapes.
	buf := make([]byte, 12, 12+len(clearKey)+max(len(sealed)-sealOverhead, 0))
	binary.BigEndian.PutUint32(buf, index)
	binary.BigEndian.PutUint64(buf[4:], pos)
	nonce := buf[:12]
	if clearKey != "" {
		buf = append(buf, clearKey...)
		out, err := aead.Open(buf[len(buf):], nonce, sealed, buf[12:])
		return clearKey, out[:len(out):len(out)], err
	}
	out, err := aead.Open(buf[12:12], nonce, sealed, nil)
	if err != nil {
		return "", nil, err
	}
	if len(out) < keyPrefix || int(binary.BigEndian.Uint16(out)) > len(out)-keyPrefix {
		return "", nil, errors.New("no partition key")
	}
	k := keyPrefix + int(binary.BigEndian.Uint16(out))
	if k == keyPrefix {
		return "", out[k:len(out):len(out)], nil
	}
	// The key is a view of the new allocation, which saves one per record:
	// no one writes its bytes, the data's slice beginning after them.
	return unsafe.String(&out[keyPrefix], k-keyPrefix), out[k:len(out):len(out)], nil
}

// streamCrypto is a stream's data keys and the one new records are sealed
// with. Shards reach it through a pointer: the put and read paths read it
// without the stream's lock.
type streamCrypto struct {
	current atomic.Pointer[dataKey] // nil: records are stored in the clear
	byGen   keyList                 // every generation, by gen-1; replaced whole under the stream's mu

	mu       sync.Mutex // guards segments
	segments map[segmentID]cipher.AEAD
}

// segmentID names a segment key.
type segmentID struct {
	gen   uint8
	index uint32
	slab  uint32
}

// maxSegmentKeys bounds the segment keys a stream's readers keep: a
// reader moves from segment to segment, and a key is quick to derive again.
const maxSegmentKeys = 256

// segmentKey returns the key of a segment, for reading.
func (c *streamCrypto) segmentKey(d *dataKey, index, slab uint32) (cipher.AEAD, error) {
	id := segmentID{d.gen, index, slab}
	c.mu.Lock()
	aead, ok := c.segments[id]
	c.mu.Unlock()
	if ok {
		return aead, nil
	}
	aead, err := d.segmentKey(index, slab)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.segments == nil || len(c.segments) >= maxSegmentKeys {
		c.segments = map[segmentID]cipher.AEAD{}
	}
	c.segments[id] = aead
	c.mu.Unlock()
	return aead, nil
}

// keyList is a list of data keys read without a lock.
type keyList struct{ p atomic.Pointer[[]*dataKey] }

func (l *keyList) Load() []*dataKey {
	if p := l.p.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *keyList) Store(keys []*dataKey) { l.p.Store(&keys) }

// keyAAD binds a wrapped data key to its stream and generation.
func keyAAD(arn string, inc uint32, gen uint8) []byte {
	return []byte(arn + "#" + strconv.FormatUint(uint64(inc), 10) + "#" + strconv.Itoa(int(gen)))
}

// newDataKey makes generation gen of the stream's data keys, wrapped by
// master.
func (s *Stream) newDataKey(gen uint8, master *masterKey) (*dataKey, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return &dataKey{gen: gen, keyID: master.id, master: master, root: raw,
		wrapped: master.wrap(raw, keyAAD(s.arn, s.inc, gen))}, nil
}

// restoreDataKey unwraps a data key kept in the manifest; without its
// master key, it can be neither used nor read, as on AWS.
func (s *Stream) restoreDataKey(gen uint8, keyID string, wrapped []byte) *dataKey {
	d := &dataKey{gen: gen, keyID: keyID, wrapped: wrapped}
	ring := s.acct.cfg.keyRing
	if ring == nil {
		d.err = newError(ErrKMSNotFound, "Key '%s' does not exist: the account has no key ring.", keyID)
		return d
	}
	master, err := ring.resolve(keyID)
	if err != nil {
		d.err = err
		return d
	}
	raw, err := master.unwrap(wrapped, keyAAD(s.arn, s.inc, gen))
	if err != nil || len(raw) != 32 {
		d.err = newError(ErrKMSInvalidState, "The data key of generation %d of stream %s does not open with key %s.", gen, s.name, keyID)
		return d
	}
	d.master, d.root = master, raw
	return d
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// keyForLocked returns the stream's data key for master, making the next
// generation if it has none. s.mu is held; the caller persists the change.
func (s *Stream) keyForLocked(master *masterKey) (*dataKey, error) {
	keys := s.crypto.byGen.Load()
	for _, d := range keys {
		if d.keyID == master.id {
			return d, nil
		}
	}
	if len(keys) >= segfile.MaxGen {
		return nil, newError(ErrLimitExceeded, "Stream %s has been encrypted with %d keys, the most it can have.", s.name, segfile.MaxGen)
	}
	d, err := s.newDataKey(uint8(len(keys)+1), master)
	if err != nil {
		return nil, err
	}
	s.crypto.byGen.Store(append(keys[:len(keys):len(keys)], d))
	return d, nil
}

// openRecord returns the partition key and data of a record of segment
// slab sealed under generation gen.
func (c *streamCrypto) openRecord(gen uint8, index, slab uint32, pos uint64, clearKey string, sealed []byte) (string, []byte, error) {
	keys := c.byGen.Load()
	if int(gen) > len(keys) {
		return "", nil, newError(ErrInternalFailure, "A record of shard %d at position %d names data key %d, which the stream does not have.", index, pos, gen)
	}
	d := keys[gen-1]
	if err := d.usable(); err != nil {
		return "", nil, err
	}
	aead, err := c.segmentKey(d, index, slab)
	if err != nil {
		return "", nil, err
	}
	key, data, err := open(aead, index, pos, clearKey, sealed)
	if err != nil {
		return "", nil, newError(ErrInternalFailure, "A record of shard %d at position %d does not open with its data key: it was altered.", index, pos)
	}
	return key, data, nil
}

// keyReady returns nil if records put now can be encrypted (or need not
// be): the master key of the current data key is there and enabled, and
// the caller may use it; otherwise why not.
func (s *Stream) keyReady(ctx context.Context) error {
	d := s.crypto.current.Load()
	if d == nil {
		return nil
	}
	if err := d.usable(); err != nil {
		return err
	}
	return s.acct.authorizeKMS(ctx, "kms:GenerateDataKey", d)
}

// authorizeKMS decides, with access control on, a caller's use of the
// customer-managed KMS key of a data key: action is kms:GenerateDataKey to
// put, kms:Decrypt to read. Kinesis's own key (alias/aws/kinesis) needs no
// permission, as its key policy lets the account use it through Kinesis;
// other keys are decided by the caller's identity-based policies, as a
// key policy that enables IAM policies does.
func (a *Account) authorizeKMS(ctx context.Context, action string, d *dataKey) error {
	if !a.cfg.access || d == nil || d.master == nil || d.master.awsManaged {
		return nil
	}
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !ok {
		return nil
	}
	req := a.request(v.Caller, action, "arn:aws:kms:"+a.cfg.region+":"+a.cfg.accountID+":key/"+d.master.id)
	if dec := iam.Evaluate(a.identityPolicies(v.PrincipalARN), nil, req); !dec.Allowed() {
		return newError(ErrKMSAccessDenied, "%s", dec.Message(req))
	}
	return nil
}

// authorizeDecrypt decides kms:Decrypt for the data keys of the
// generations in gens (bit g-1 for generation g).
func (s *Stream) authorizeDecrypt(ctx context.Context, gens uint64) error {
	if gens == 0 || !s.acct.cfg.access {
		return nil
	}
	for i, d := range s.crypto.byGen.Load() {
		if gens&(1<<i) != 0 {
			if err := s.acct.authorizeKMS(ctx, "kms:Decrypt", d); err != nil {
				return err
			}
		}
	}
	return nil
}

// allGens is the mask of every generation the stream has: what a reader
// that starts now may open.
func (c *streamCrypto) allGens() uint64 {
	return 1<<len(c.byGen.Load()) - 1
}
