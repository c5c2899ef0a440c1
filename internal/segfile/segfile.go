// Package segfile is the on-disk format of a durable shard: its segment
// files, each a header and the records as checksummed frames, and its index
// file, which lists the records of every finished segment file so that
// opening need not read them. FORMAT.md at the root of the repository
// describes both byte by byte; Version numbers them.
//
//	segment  header, 64 bytes: magic "SHLGSEG\x00", version, stream
//	         incarnation, shard index, file number, first position,
//	         creation time, CRC-32C; and the sync mark (how far the file
//	         was durable when its last sync began), checksummed alone
//	         frames, one per record: CRC-32C of the rest of the frame, data
//	         length, key length (10 bits) and encryption key generation (6
//	         bits), position, arrival time (Unix ms), key, data
//	index    records, one per finished file (or deleted file): length, file
//	         number, first position, record count, end of the frames, CRC-32C
//	         of the frames, 12 bytes per record (data length, key length,
//	         arrival time), CRC-32C of the record
//
// All integers are little-endian. A frame's CRC covers the rest of the
// frame, so a torn or overwritten frame is recognised; an index record's
// CRC of the frames covers a whole finished file at once, which is cheaper to
// check than every frame when the file is read back.
package segfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"iter"
	"math"
)

// Version is the format version this package writes; it reads every
// version from 1 up to it. A file of a newer version is refused with
// ErrNewer. Version 2 added the key generation of encrypted records (the
// high bits of a frame's key length); version 3 the sync mark, which the
// header's checksum leaves out.
const Version = 3

// A frame's and an entry's key length field holds the key length in its
// low KeyBits bits (a partition key has at most 256 UTF-16 code units: 768
// bytes of UTF-8) and, above them, the generation of the data key the
// record's data is encrypted with (0: not encrypted).
const (
	KeyBits = 10
	keyMask = 1<<KeyBits - 1
	// MaxGen is the highest key generation a frame can name.
	MaxGen = 1<<(16-KeyBits) - 1
)

// splitKey splits a key length field.
func splitKey(field uint16) (keyLen uint16, gen uint8) {
	return field & keyMask, uint8(field >> KeyBits)
}

// Sizes of the fixed parts.
const (
	HeaderSize  = 64
	FrameHeader = 26
	EntrySize   = 12
)

var (
	headerMagic = [8]byte{'S', 'H', 'L', 'G', 'S', 'E', 'G', 0}
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

// Errors of decoding.
var (
	// ErrCorrupt reports bytes that are not what this package wrote.
	ErrCorrupt = errors.New("segfile: corrupt")
	// ErrNewer reports a file written by a newer format version.
	ErrNewer = errors.New("segfile: written by a newer version of shardlog")
)

// Checksum returns the CRC-32C (Castagnoli) of b.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Header identifies a segment file.
type Header struct {
	Stream  uint32 // stream incarnation
	Shard   uint32 // shard index
	File    uint32 // file number within the shard, from 0
	First   uint64 // position of its first record
	Created int64  // Unix ms
	Size    uint32 // the file's size, allocated at its creation (version 3; 0 before)
	Version uint32 // the format version (ParseHeader sets it; PutHeader writes Version)
}

// Seed returns the frames' checksum seed of the file: the shard's (see
// FrameSeed) from version 3 on, 0 (a plain CRC-32C) before.
func (h Header) Seed() uint32 {
	if h.Version < 3 {
		return 0
	}
	return FrameSeed(h.Stream, h.Shard)
}

// FrameSeed returns the initial value of the checksums of the frames of a
// shard's files: the CRC-32C of its stream incarnation and shard index, so
// that a frame of another shard's file never checks as this one's.
func FrameSeed(stream, shard uint32) uint32 {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], stream)
	binary.LittleEndian.PutUint32(b[4:], shard)
	return Checksum(b[:])
}

// frameSum is the checksum of a frame's bytes after its checksum field.
func frameSum(seed uint32, b []byte) uint32 { return crc32.Update(seed, castagnoli, b) }

// PutHeader writes h into b[:HeaderSize], in this package's Version, with
// a sync mark that says nothing is durable yet (offset 0).
func PutHeader(b []byte, h Header) {
	_ = b[HeaderSize-1]
	clear(b[:HeaderSize])
	copy(b, headerMagic[:])
	le := binary.LittleEndian
	le.PutUint32(b[8:], Version)
	le.PutUint32(b[12:], h.Stream)
	le.PutUint32(b[16:], h.Shard)
	le.PutUint32(b[20:], h.File)
	le.PutUint64(b[24:], h.First)
	le.PutUint64(b[32:], uint64(h.Created))
	le.PutUint32(b[56:], h.Size)
	le.PutUint32(b[60:], headerSum(b, Version))
	PutMark(b, Mark{Pos: h.First})
}

// headerSum is the checksum of a header of version v. From version 3 it
// leaves out the sync mark (bytes 40 to 55), which changes as the file is
// written; before, it covers bytes 0 to 59.
func headerSum(b []byte, v uint32) uint32 {
	if v < 3 {
		return Checksum(b[:60])
	}
	return crc32.Update(Checksum(b[:markAt]), castagnoli, b[56:60])
}

// ParseHeader reads a header. The sync mark is read by ParseMark.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize || [8]byte(b[:8]) != headerMagic {
		return Header{}, fmt.Errorf("%w: no segment header", ErrCorrupt)
	}
	le := binary.LittleEndian
	v := le.Uint32(b[8:])
	if le.Uint32(b[60:]) != headerSum(b, min(v, Version)) {
		// Damage: a flipped bit in the version is not a newer version.
		return Header{}, fmt.Errorf("%w: header checksum", ErrCorrupt)
	}
	if v > Version { // every version keeps the checksum of version 3
		return Header{}, fmt.Errorf("%w (format version %d; this one reads %d)", ErrNewer, v, Version)
	}
	if v == 0 {
		return Header{}, fmt.Errorf("%w: format version 0", ErrCorrupt)
	}
	h := Header{
		Stream:  le.Uint32(b[12:]),
		Shard:   le.Uint32(b[16:]),
		File:    le.Uint32(b[20:]),
		First:   le.Uint64(b[24:]),
		Created: int64(le.Uint64(b[32:])),
		Version: v,
	}
	if v >= 3 {
		h.Size = le.Uint32(b[56:])
	}
	return h, nil
}

// SeedOf returns the frames' checksum seed of the file whose image b is,
// from its header, or fallback if the header is garbled.
func SeedOf(b []byte, fallback uint32) uint32 {
	if h, err := ParseHeader(b); err == nil {
		return h.Seed()
	}
	return fallback
}

// Mark is a segment file's sync mark: the bytes below Off (and so the
// records below position Pos) were durable when the file's last sync
// began. Off is 0 until a sync has made the file's header, and its size,
// durable. Each sync writes the mark of the one before it, so that the mark
// is never ahead of what is on disk, whatever a power cut keeps: frames
// below it that fail their checksum are damage, never a torn write.
type Mark struct {
	Off uint32 // offset in the file
	Pos uint64 // position of the first record at or after Off
}

const markAt = 40 // offset of the mark: 4 bytes Off, 8 Pos, 4 CRC-32C of both

// PutMark writes m into the header in b.
func PutMark(b []byte, m Mark) {
	le := binary.LittleEndian
	le.PutUint32(b[markAt:], m.Off)
	le.PutUint64(b[markAt+4:], m.Pos)
	le.PutUint32(b[markAt+12:], Checksum(b[markAt:markAt+12]))
}

// ParseMark reads the sync mark of a version 3 header; it reports false if
// there is none, or it is garbled (a torn write of it): then nothing is
// known durable.
func ParseMark(b []byte) (Mark, bool) {
	if len(b) < HeaderSize || binary.LittleEndian.Uint32(b[8:]) < 3 {
		return Mark{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(b[markAt+12:]) != Checksum(b[markAt:markAt+12]) {
		return Mark{}, false
	}
	return Mark{Off: le.Uint32(b[markAt:]), Pos: le.Uint64(b[markAt+4:])}, true
}

// FrameSize returns the bytes a record's frame takes.
func FrameSize(keyLen, dataLen int) int { return FrameHeader + keyLen + dataLen }

// PutFrame writes a record's frame at the start of b, which must have room
// for it, and returns its size. seed is the file's checksum seed (see
// Header.Seed); gen is the generation of the data key the data is encrypted
// with, 0 for none.
func PutFrame(b []byte, seed uint32, pos uint64, millis int64, key string, data []byte, gen uint8) int {
	n := FrameSize(len(key), len(data))
	_ = b[n-1]
	le := binary.LittleEndian
	le.PutUint32(b[4:], uint32(len(data)))
	le.PutUint16(b[8:], uint16(len(key))|uint16(gen)<<KeyBits)
	le.PutUint64(b[10:], pos)
	le.PutUint64(b[18:], uint64(millis))
	copy(b[FrameHeader:], key)
	copy(b[FrameHeader+len(key):], data)
	le.PutUint32(b[0:], frameSum(seed, b[4:n]))
	return n
}

// CheckFrame reports whether b holds, at keyOff-FrameHeader, the intact
// frame of the record at position pos with the given lengths: the
// check of a record whose file failed its checksum as a whole.
func CheckFrame(b []byte, seed uint32, keyOff uint32, key uint16, gen uint8, data uint32, pos uint64) bool {
	start := int64(keyOff) - FrameHeader
	end := int64(keyOff) + int64(key) + int64(data)
	if start < 0 || end > int64(len(b)) {
		return false
	}
	h := b[start:end]
	le := binary.LittleEndian
	return le.Uint32(h[4:]) == data && le.Uint16(h[8:]) == key|uint16(gen)<<KeyBits &&
		le.Uint64(h[10:]) == pos && le.Uint32(h[0:]) == frameSum(seed, h[4:])
}

// Entry locates a record in a file.
type Entry struct {
	KeyOff uint32 // offset of the key in the file; the data follows it
	Data   uint32 // data length
	Key    uint16 // key length
	Gen    uint8  // the data key's generation; 0: not encrypted
	Millis int64  // arrival time, Unix ms
}

// Scan reads frames from b[off:], the first of which must hold position
// first, checksummed from seed, and calls f for each good one, in order. It stops at the end of
// b, at zeros (unwritten space), or at the first frame that is torn,
// corrupt or out of sequence, and returns the offset just past the last
// good frame and how many there were.
func Scan(b []byte, off int, first uint64, seed uint32, f func(Entry)) (end int, n uint64) {
	le := binary.LittleEndian
	for {
		if len(b)-off < FrameHeader {
			return off, n
		}
		h := b[off : off+FrameHeader]
		key, gen := splitKey(le.Uint16(h[8:]))
		data := int(le.Uint32(h[4:]))
		size := FrameSize(int(key), data)
		if size > len(b)-off || le.Uint64(h[10:]) != first+n {
			return off, n
		}
		if le.Uint32(h[0:]) != frameSum(seed, b[off+4:off+size]) {
			return off, n
		}
		f(Entry{KeyOff: uint32(off + FrameHeader), Data: uint32(data), Key: key, Gen: gen, Millis: int64(le.Uint64(h[18:]))})
		off += size
		n++
	}
}

// Entries are index entries, encoded as in the index file: EntrySize
// bytes each, the data length (4), the key length (2) and the arrival time
// (6, a signed count of Unix milliseconds). Where a frame starts follows
// from the lengths before it, as frames are written end to end from
// HeaderSize. Kept encoded, a file's entries cost no more memory than on
// disk, and reading an index is a slice of it.
type Entries []byte

// maxMillis bounds the arrival times an entry holds: about 4 400 years
// either side of 1970.
const maxMillis = 1<<47 - 1

// ClampMillis returns the arrival time nearest to millis that an entry
// holds. A durable segment stores its records' times so.
func ClampMillis(millis int64) int64 { return min(max(millis, -maxMillis-1), maxMillis) }

// Append appends the entry of one record, which must follow the last one
// in its file; its time must be clamped (ClampMillis).
func (es Entries) Append(e Entry) Entries {
	le := binary.LittleEndian
	b := le.AppendUint32([]byte(es), e.Data)
	b = le.AppendUint16(b, e.Key|uint16(e.Gen)<<KeyBits)
	m := uint64(e.Millis)
	return append(b, byte(m), byte(m>>8), byte(m>>16), byte(m>>24), byte(m>>32), byte(m>>40))
}

// Len returns the number of entries.
func (es Entries) Len() int { return len(es) / EntrySize }

// All yields the entries in order, with where each record's key starts,
// the first frame starting at HeaderSize.
func (es Entries) All() iter.Seq[Entry] { return es.From(HeaderSize) }

// From is All for entries whose first frame starts at off.
func (es Entries) From(off uint32) iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		for i := 0; i+EntrySize <= len(es); i += EntrySize {
			e := decodeEntry(es[i:i+EntrySize], off+FrameHeader)
			if !yield(e) {
				return
			}
			off = e.KeyOff + uint32(e.Key) + e.Data
		}
	}
}

// End returns the offset just past the frames of the entries.
func (es Entries) End() uint64 {
	le := binary.LittleEndian
	end := uint64(HeaderSize)
	for i := 0; i+EntrySize <= len(es); i += EntrySize {
		key, _ := splitKey(le.Uint16(es[i+4:]))
		end += FrameHeader + uint64(le.Uint32(es[i:])) + uint64(key)
	}
	return end
}

func decodeEntry(b []byte, keyOff uint32) Entry {
	le := binary.LittleEndian
	m := uint64(b[6]) | uint64(b[7])<<8 | uint64(b[8])<<16 | uint64(b[9])<<24 | uint64(b[10])<<32 | uint64(b[11])<<40
	key, gen := splitKey(le.Uint16(b[4:]))
	return Entry{KeyOff: keyOff, Data: le.Uint32(b), Key: key, Gen: gen, Millis: int64(m<<16) >> 16}
}

// Prefix returns the first n entries.
func (es Entries) Prefix(n int) Entries { return es[:n*EntrySize] }

// IndexRecord describes a finished segment file, or a deleted one.
type IndexRecord struct {
	File      uint32  // file number; Dropped for a deleted file
	First     uint64  // first position; for Dropped, the deleted file's number
	Count     uint64  // records
	FramesEnd uint64  // offset just past the last frame
	FramesCRC uint32  // CRC-32C of [HeaderSize, FramesEnd)
	Entries   Entries // one per record
}

// Dropped is the file number of an index record that says the file
// numbered by First was deleted on purpose.
const Dropped = math.MaxUint32

const indexRecordHeader = 36

// IndexRecordSize returns the bytes of an index record of n entries.
func IndexRecordSize(n int) int { return indexRecordHeader + n*EntrySize + 4 }

// AppendIndexRecord appends r to an index file's bytes.
func AppendIndexRecord(b []byte, r IndexRecord) []byte {
	start := len(b)
	le := binary.LittleEndian
	b = le.AppendUint32(b, uint32(indexRecordHeader+len(r.Entries)+4))
	b = le.AppendUint32(b, r.File)
	b = le.AppendUint64(b, r.First)
	b = le.AppendUint64(b, r.Count)
	b = le.AppendUint64(b, r.FramesEnd)
	b = le.AppendUint32(b, r.FramesCRC)
	b = append(b, r.Entries...)
	return le.AppendUint32(b, Checksum(b[start:]))
}

// ReadIndex decodes an index file's records, in order, and stops at the
// first that is torn or garbled (a crash can leave the end of the file
// short or overwritten): what it returns is every good record before.
// Their Entries alias b. It returns where the good records end: a writer
// must append there, not after the garbled rest, or what it appends is
// never read.
func ReadIndex(b []byte, f func(IndexRecord)) (end int) {
	le := binary.LittleEndian
	for len(b)-end >= indexRecordHeader+4 {
		size := int(le.Uint32(b[end:]))
		if size < indexRecordHeader+4 || size > len(b)-end || (size-indexRecordHeader-4)%EntrySize != 0 {
			return end
		}
		rec := b[end : end+size]
		if Checksum(rec[:size-4]) != le.Uint32(rec[size-4:]) {
			return end
		}
		r := IndexRecord{
			File:      le.Uint32(rec[4:]),
			First:     le.Uint64(rec[8:]),
			Count:     le.Uint64(rec[16:]),
			FramesEnd: le.Uint64(rec[24:]),
			FramesCRC: le.Uint32(rec[32:]),
		}
		body := Entries(rec[indexRecordHeader : size-4])
		if uint64(body.Len()) != r.Count {
			return end
		}
		if r.File != Dropped && body.End() != r.FramesEnd {
			return end // checksummed, yet not what this package writes
		}
		r.Entries = body
		f(r)
		end += size
	}
	return end
}

// Walk calls f for each frame in b[off:], trusting them (they were written
// by this process: only their lengths are read), and returns how many there
// were.
func Walk(b []byte, off int, f func(Entry)) uint64 {
	le := binary.LittleEndian
	var n uint64
	for len(b)-off >= FrameHeader {
		h := b[off : off+FrameHeader]
		key, gen := splitKey(le.Uint16(h[8:]))
		data := int(le.Uint32(h[4:]))
		size := FrameSize(int(key), data)
		if size > len(b)-off {
			break
		}
		f(Entry{KeyOff: uint32(off + FrameHeader), Data: uint32(data), Key: key, Gen: gen, Millis: int64(le.Uint64(h[18:]))})
		off += size
		n++
	}
	return n
}
