// Package segfile is the on-disk format of one segment file of a durable
// shard: a header, the records as checksummed frames, and, once the file is
// sealed, an index of its records and a trailer. FORMAT.md at the root of
// the repository describes it byte by byte; Version numbers it.
//
//	header   64 bytes: magic "SHLGSEG\x00", version, stream incarnation,
//	         shard index, file number, first position, creation time, CRC
//	frames   one per record: CRC-32C, data length, key length, position,
//	         arrival time (Unix ms), key, data
//	index    sealed files: one 20-byte entry per record (key offset, data
//	         length, key length, arrival time)
//	trailer  sealed files, 48 bytes: where the frames end, record count,
//	         CRC-32C of the frames and of the index, magic, CRC
//
// All integers are little-endian. A frame's CRC covers the rest of the
// frame, so a torn or overwritten frame is recognised; the trailer's CRCs
// cover the frames and the index of a sealed file at once, which is cheaper
// to check than every frame when the file is read back.
package segfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Version is the format version this package writes and reads. A file of a
// newer version is refused with ErrNewer.
const Version = 1

// Sizes of the fixed parts.
const (
	HeaderSize  = 64
	FrameHeader = 26
	EntrySize   = 20
	TrailerSize = 48
)

var (
	headerMagic  = [8]byte{'S', 'H', 'L', 'G', 'S', 'E', 'G', 0}
	trailerMagic = [8]byte{'S', 'H', 'L', 'G', 'E', 'N', 'D', 0}
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
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
}

// PutHeader writes h into b[:HeaderSize].
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
	le.PutUint32(b[60:], Checksum(b[:60]))
}

// ParseHeader reads a header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize || [8]byte(b[:8]) != headerMagic {
		return Header{}, fmt.Errorf("%w: no segment header", ErrCorrupt)
	}
	le := binary.LittleEndian
	if le.Uint32(b[60:]) != Checksum(b[:60]) {
		return Header{}, fmt.Errorf("%w: header checksum", ErrCorrupt)
	}
	if v := le.Uint32(b[8:]); v > Version {
		return Header{}, fmt.Errorf("%w (format version %d; this one reads %d)", ErrNewer, v, Version)
	}
	return Header{
		Stream:  le.Uint32(b[12:]),
		Shard:   le.Uint32(b[16:]),
		File:    le.Uint32(b[20:]),
		First:   le.Uint64(b[24:]),
		Created: int64(le.Uint64(b[32:])),
	}, nil
}

// FrameSize returns the bytes a record's frame takes.
func FrameSize(keyLen, dataLen int) int { return FrameHeader + keyLen + dataLen }

// PutFrame writes a record's frame at the start of b, which must have room
// for it, and returns its size.
func PutFrame(b []byte, pos uint64, millis int64, key string, data []byte) int {
	n := FrameSize(len(key), len(data))
	_ = b[n-1]
	le := binary.LittleEndian
	le.PutUint32(b[4:], uint32(len(data)))
	le.PutUint16(b[8:], uint16(len(key)))
	le.PutUint64(b[10:], pos)
	le.PutUint64(b[18:], uint64(millis))
	copy(b[FrameHeader:], key)
	copy(b[FrameHeader+len(key):], data)
	le.PutUint32(b[0:], Checksum(b[4:n]))
	return n
}

// Entry locates a record in a file.
type Entry struct {
	KeyOff uint32 // offset of the key in the file; the data follows it
	Data   uint32 // data length
	Key    uint16 // key length
	Millis int64  // arrival time, Unix ms
}

// Scan reads frames from b[off:], the first of which must hold position
// first, and calls f for each good one, in order. It stops at the end of
// b, at zeros (unwritten space), or at the first frame that is torn,
// corrupt or out of sequence, and returns the offset just past the last
// good frame and how many there were.
func Scan(b []byte, off int, first uint64, f func(Entry)) (end int, n uint64) {
	le := binary.LittleEndian
	for {
		if len(b)-off < FrameHeader {
			return off, n
		}
		h := b[off : off+FrameHeader]
		data, key := int(le.Uint32(h[4:])), int(le.Uint16(h[8:]))
		size := FrameSize(key, data)
		if size > len(b)-off || le.Uint64(h[10:]) != first+n {
			return off, n
		}
		if le.Uint32(h[0:]) != Checksum(b[off+4:off+size]) {
			return off, n
		}
		f(Entry{KeyOff: uint32(off + FrameHeader), Data: uint32(data), Key: uint16(key), Millis: int64(le.Uint64(h[18:]))})
		off += size
		n++
	}
}

// Trailer ends a sealed file.
type Trailer struct {
	FramesEnd uint64 // offset just past the last frame; the index starts here
	Count     uint64 // records in the file
	FramesCRC uint32 // CRC-32C of [HeaderSize, FramesEnd)
	IndexCRC  uint32 // CRC-32C of the index
}

// AppendIndex appends the index entry of one record.
func AppendIndex(b []byte, e Entry) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, e.KeyOff)
	b = le.AppendUint32(b, e.Data)
	b = le.AppendUint16(b, e.Key)
	b = le.AppendUint16(b, 0)
	return le.AppendUint64(b, uint64(e.Millis))
}

// AppendTrailer appends t.
func AppendTrailer(b []byte, t Trailer) []byte {
	start := len(b)
	le := binary.LittleEndian
	b = le.AppendUint64(b, t.FramesEnd)
	b = le.AppendUint64(b, t.Count)
	b = le.AppendUint32(b, t.FramesCRC)
	b = le.AppendUint32(b, t.IndexCRC)
	b = append(b, trailerMagic[:]...)
	b = le.AppendUint32(b, Version)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	return le.AppendUint32(b, Checksum(b[start:]))
}

// ParseTrailer reads the trailer at the end of b, which holds the last
// TrailerSize bytes of a file of size fileSize, and checks it fits.
func ParseTrailer(b []byte, fileSize int64) (Trailer, error) {
	if len(b) < TrailerSize {
		return Trailer{}, fmt.Errorf("%w: no trailer", ErrCorrupt)
	}
	b = b[len(b)-TrailerSize:]
	le := binary.LittleEndian
	if [8]byte(b[24:32]) != trailerMagic || le.Uint32(b[44:]) != Checksum(b[:44]) {
		return Trailer{}, fmt.Errorf("%w: no trailer", ErrCorrupt)
	}
	if v := le.Uint32(b[32:]); v > Version {
		return Trailer{}, fmt.Errorf("%w (format version %d; this one reads %d)", ErrNewer, v, Version)
	}
	t := Trailer{FramesEnd: le.Uint64(b[0:]), Count: le.Uint64(b[8:]), FramesCRC: le.Uint32(b[16:]), IndexCRC: le.Uint32(b[20:])}
	if t.FramesEnd < HeaderSize || t.Count > (t.FramesEnd-HeaderSize)/FrameHeader ||
		t.FramesEnd+t.Count*EntrySize+TrailerSize != uint64(fileSize) {
		return Trailer{}, fmt.Errorf("%w: trailer does not fit the file", ErrCorrupt)
	}
	return t, nil
}

// ParseIndex decodes a sealed file's index, checking its CRC and that every
// entry lies inside the frames.
func ParseIndex(b []byte, t Trailer, f func(Entry)) error {
	if uint64(len(b)) != t.Count*EntrySize || Checksum(b) != t.IndexCRC {
		return fmt.Errorf("%w: index checksum", ErrCorrupt)
	}
	le := binary.LittleEndian
	next := uint64(HeaderSize) // each frame starts where the last ended
	for i := 0; i < len(b); i += EntrySize {
		e := Entry{KeyOff: le.Uint32(b[i:]), Data: le.Uint32(b[i+4:]), Key: le.Uint16(b[i+8:]), Millis: int64(le.Uint64(b[i+12:]))}
		if uint64(e.KeyOff) != next+FrameHeader {
			return fmt.Errorf("%w: index entry %d", ErrCorrupt, i/EntrySize)
		}
		next = uint64(e.KeyOff) + uint64(e.Key) + uint64(e.Data)
		if next > t.FramesEnd {
			return fmt.Errorf("%w: index entry %d past the frames", ErrCorrupt, i/EntrySize)
		}
		f(e)
	}
	if next != t.FramesEnd {
		return fmt.Errorf("%w: index does not cover the frames", ErrCorrupt)
	}
	return nil
}

// Walk calls f for each frame in b[off:], trusting them (they were written
// by this process: only their lengths are read), and returns how many there
// were.
func Walk(b []byte, off int, f func(Entry)) uint64 {
	le := binary.LittleEndian
	var n uint64
	for len(b)-off >= FrameHeader {
		h := b[off : off+FrameHeader]
		data, key := int(le.Uint32(h[4:])), int(le.Uint16(h[8:]))
		size := FrameSize(key, data)
		if size > len(b)-off {
			break
		}
		f(Entry{KeyOff: uint32(off + FrameHeader), Data: uint32(data), Key: uint16(key), Millis: int64(le.Uint64(h[18:]))})
		off += size
		n++
	}
	return n
}
