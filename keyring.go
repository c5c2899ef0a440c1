package shardlog

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// KeyRing holds the master keys that stand for KMS keys: a stream
// encrypted with StartStreamEncryption seals its records with data keys
// that a master key of the ring wraps. Master keys stay in memory: a
// durable account keeps only wrapped data keys, so its files are useless
// without the ring. KeyRing is safe for concurrent use.
type KeyRing struct {
	mu      sync.RWMutex
	keys    map[string]*masterKey // by key ID
	aliases map[string]string     // alias/NAME → key ID
}

// masterKey is a KMS key's stand-in: AES-256-GCM over its 32 bytes.
type masterKey struct {
	id         string
	aead       cipher.AEAD
	awsManaged bool // alias/aws/kinesis: Kinesis's own key, usable without kms: permissions
	disabled   atomic.Bool
}

// DefaultKMSKey is the alias of the AWS-managed key Kinesis uses when a
// stream is encrypted with it (alias/aws/kinesis).
const DefaultKMSKey = "alias/aws/kinesis"

// NewKeyRing returns a key ring holding one key, with a random key ID, a
// random key and the alias alias/aws/kinesis (DefaultKMSKey). Its key
// lives only as long as the process: a durable account whose records must
// outlive it needs a ring loaded from a file (LoadKeyRing).
func NewKeyRing() *KeyRing {
	r := &KeyRing{keys: map[string]*masterKey{}, aliases: map[string]string{}}
	var key [32]byte
	_, _ = rand.Read(key[:])
	if err := r.AddKey(newUUID(), key[:], DefaultKMSKey); err != nil {
		panic(err) // a fresh ring takes any key
	}
	return r
}

// LoadKeyRing reads a key ring from a JSON file:
//
//	{"keys": [{"id": "1234abcd-12ab-34cd-56ef-1234567890ab",
//	           "aliases": ["alias/aws/kinesis", "alias/orders"],
//	           "key": "<32 bytes, base64>", "enabled": true}]}
//
// ("enabled" defaults to true). Keep the file as secret as the data.
func LoadKeyRing(path string) (*KeyRing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Keys []struct {
			ID      string   `json:"id"`
			Aliases []string `json:"aliases"`
			Key     []byte   `json:"key"`
			Enabled *bool    `json:"enabled"`
		} `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("shardlog: key ring %s: %v", path, err)
	}
	r := &KeyRing{keys: map[string]*masterKey{}, aliases: map[string]string{}}
	for _, k := range f.Keys {
		if err := r.AddKey(k.ID, k.Key, k.Aliases...); err != nil {
			return nil, fmt.Errorf("shardlog: key ring %s: %v", path, err)
		}
		if k.Enabled != nil && !*k.Enabled {
			_ = r.DisableKey(k.ID)
		}
	}
	return r, nil
}

// AddKey adds a master key of 32 bytes under a key ID and aliases (each
// alias/NAME). A key ID or alias the ring has already is an error.
func (r *KeyRing) AddKey(id string, key []byte, aliases ...string) error {
	if id == "" || strings.ContainsAny(id, "/:") {
		return fmt.Errorf("a key ID is a name without / or :, not %q", id)
	}
	if len(key) != 32 {
		return fmt.Errorf("key %s has %d bytes, not 32", id, len(key))
	}
	aead, err := gcm(key)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.keys[id]; ok {
		return fmt.Errorf("key %s is in the ring already", id)
	}
	for _, a := range aliases {
		if !strings.HasPrefix(a, "alias/") || len(a) == len("alias/") {
			return fmt.Errorf("alias %q of key %s is not alias/NAME", a, id)
		}
		if _, ok := r.aliases[a]; ok {
			return fmt.Errorf("alias %s is in the ring already", a)
		}
	}
	r.keys[id] = &masterKey{id: id, aead: aead, awsManaged: slices.Contains(aliases, DefaultKMSKey)}
	for _, a := range aliases {
		r.aliases[a] = id
	}
	return nil
}

// DisableKey disables a key, as KMS's DisableKey: puts to streams it
// encrypts, and reads of their records, fail with ErrKMSDisabled until
// EnableKey.
func (r *KeyRing) DisableKey(id string) error { return r.setEnabled(id, false) }

// EnableKey enables a key DisableKey disabled.
func (r *KeyRing) EnableKey(id string) error { return r.setEnabled(id, true) }

func (r *KeyRing) setEnabled(id string, enabled bool) error {
	r.mu.RLock()
	k := r.keys[id]
	r.mu.RUnlock()
	if k == nil {
		return fmt.Errorf("no key %s in the ring", id)
	}
	k.disabled.Store(!enabled)
	return nil
}

// resolve finds the key a KMS key reference names, as Kinesis takes them:
// a key ID, an alias (alias/NAME), or the ARN of either.
func (r *KeyRing) resolve(ref string) (*masterKey, error) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return nil, newError(ErrKMSNotFound, "Invalid keyId %s", ref)
		}
		name = parts[5] // key/ID or alias/NAME
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if strings.HasPrefix(name, "alias/") {
		id, ok := r.aliases[name]
		if !ok {
			return nil, newError(ErrKMSNotFound, "Alias %s is not found.", ref)
		}
		name = id
	}
	k := r.keys[strings.TrimPrefix(name, "key/")]
	if k == nil {
		return nil, newError(ErrKMSNotFound, "Key '%s' does not exist", ref)
	}
	return k, nil
}

// usable reports whether a key may encrypt and decrypt now.
func (k *masterKey) usable() error {
	if k.disabled.Load() {
		return newError(ErrKMSDisabled, "The request was rejected because the specified KMS key %s is not enabled.", k.id)
	}
	return nil
}

// wrap seals a data key under k, bound to aad.
func (k *masterKey) wrap(dataKey, aad []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(dataKey)+k.aead.Overhead())
	_, _ = rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, dataKey, aad)
}

// unwrap opens what wrap sealed.
func (k *masterKey) unwrap(wrapped, aad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("a wrapped data key of %d bytes", len(wrapped))
	}
	return k.aead.Open(nil, wrapped[:n], wrapped[n:], aad)
}

// newUUID returns a random UUID, the form of KMS key IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
