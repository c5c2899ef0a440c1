package shardlog

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/seqnum"
)

// SequenceNumber identifies a record within its stream. It is a small
// comparable value; its text form is the 56-digit decimal that Kinesis
// clients see, and two numbers of one stream compare as those decimals do
// as big integers. Numbers rise strictly within a shard, and every number of
// a child shard exceeds every number of its parents. The zero value is no
// sequence number.
//
// A SequenceNumber may also hold a number Amazon Kinesis issued (the aws
// module's StreamAPI returns those): it keeps its decimal form and compares
// as a big integer, but a stream of this package takes it for none of its
// own.
type SequenceNumber struct {
	n    seqnum.Number
	text string // the decimal form of a number of another layout (Kinesis's)
}

// SequenceNumberAsSent is a sequence number as a client of Kinesis's API
// sent it, well formed or not, for servers of that API: the operation that
// takes it answers text that is no sequence number as Kinesis does, in
// Kinesis's order of checks, rather than failing before it begins, as
// [ParseSequenceNumber] would.
func SequenceNumberAsSent(s string) SequenceNumber {
	if n, err := seqnum.Parse(s); err == nil {
		return SequenceNumber{n: n}
	}
	return SequenceNumber{text: strings.Clone(s)}
}

// ParseSequenceNumber parses the decimal form of a sequence number: one
// shardlog issued, or any other well-formed one (Kinesis's: a decimal of
// up to 129 digits without leading zeros), which it keeps as text. Other
// strings give ErrInvalidArgument.
func ParseSequenceNumber(s string) (SequenceNumber, error) {
	n, err := seqnum.Parse(s)
	if err == nil {
		return SequenceNumber{n: n}, nil
	}
	if s != "" && s != "0" && seqnum.Valid(s) {
		return SequenceNumber{text: strings.Clone(s)}, nil
	}
	return SequenceNumber{}, newError(ErrInvalidArgument, "Invalid sequence number %s.", s)
}

// String returns the decimal form (56 digits for shardlog's numbers), or ""
// for the zero value.
func (s SequenceNumber) String() string {
	switch {
	case s.text != "":
		return s.text
	case s.IsZero():
		return ""
	}
	return s.n.String()
}

// AppendText appends the decimal form to b without allocating when b has
// room (56 bytes).
func (s SequenceNumber) AppendText(b []byte) ([]byte, error) {
	switch {
	case s.text != "":
		return append(b, s.text...), nil
	case s.IsZero():
		return b, nil
	}
	return s.n.Append(b), nil
}

// MarshalText implements encoding.TextMarshaler.
func (s SequenceNumber) MarshalText() ([]byte, error) { return s.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *SequenceNumber) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = SequenceNumber{}
		return nil
	}
	v, err := ParseSequenceNumber(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// IsZero reports whether s is the zero value.
func (s SequenceNumber) IsZero() bool { return s.n == seqnum.Number{} && s.text == "" }

// Compare returns -1, 0 or +1 as s sorts before, equal to or after o, in the
// order of their decimal forms as big integers (the zero value first).
func (s SequenceNumber) Compare(o SequenceNumber) int {
	if s.text == "" && o.text == "" {
		return s.n.Compare(o.n)
	}
	a, b := s.String(), o.String()
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

// Record is a record read from a shard.
//
// PartitionKey and Data share the shard's storage: they are valid for as
// long as the caller holds them (even after the record expires) but must not
// be modified. Copy Data before changing it.
type Record struct {
	SequenceNumber              SequenceNumber
	ShardID                     string // the shard it was read from
	PartitionKey                string
	Data                        []byte
	ApproximateArrivalTimestamp time.Time // millisecond precision, UTC
}

// PutInput is one record to write, as in PutRecord.
type PutInput struct {
	// PartitionKey picks the shard (through its MD5 hash, unless
	// ExplicitHashKey is set) and is stored with the record. 1 to 256
	// characters, counted in UTF-16 code units as Kinesis does.
	PartitionKey string
	// Data is the payload, copied by Put. Data plus the partition key's UTF-8
	// bytes must not exceed the maximum record size (1 MiB by default).
	Data []byte
	// ExplicitHashKey, if not empty, is a decimal hash key in [0, 2^128-1]
	// that replaces the partition key's hash.
	ExplicitHashKey string
	// SequenceNumberForOrdering, if not the zero value, must be a sequence
	// number this stream issued; the new record's number will be greater.
	// Only Put honours it; PutBatch ignores it, as PutRecords has no such
	// field.
	SequenceNumberForOrdering SequenceNumber
}

// PutOutput says where a record was stored.
type PutOutput struct {
	ShardID        string
	SequenceNumber SequenceNumber
	EncryptionType EncryptionType // the stream's: "NONE" or "KMS"
}

// BatchEntry is the result of one record of a PutBatch: either ShardID and
// SequenceNumber, or ErrorCode and ErrorMessage.
type BatchEntry struct {
	ShardID        string
	SequenceNumber SequenceNumber
	ErrorCode      string // "ProvisionedThroughputExceededException" or "InternalFailure"
	ErrorMessage   string
}

// PutBatchOutput is the result of PutBatch: one entry per input record, in
// request order. As PutRecords, PutBatch does not fail as a whole when
// some records do: check Err.
type PutBatchOutput struct {
	FailedRecordCount int
	Records           []BatchEntry
	EncryptionType    EncryptionType // the stream's: "NONE" or "KMS"
}

// Err returns nil if every record was put; otherwise a *RecordError for
// each record that was not, in request order, joined (errors.Join):
// errors.Is(res.Err(), ErrProvisionedThroughputExceeded) holds if one was
// throttled, and errors.As finds the first failure's index.
func (r PutBatchOutput) Err() error {
	var errs []error
	for i, e := range r.Records {
		if e.ErrorCode != "" {
			errs = append(errs, &RecordError{Index: i, Err: recordFailure(e)})
		}
	}
	return errors.Join(errs...)
}

// RecordError is the failure of one record of a PutBatch.
type RecordError struct {
	Index int    // the record's place in the batch
	Err   *Error // its ErrorCode and ErrorMessage; Retryable as the code is
}

// Error implements error.
func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

// Unwrap returns the record's *Error, for errors.Is and errors.As.
func (e *RecordError) Unwrap() error { return e.Err }

// recordFailure is a failed entry's error. Its code is PutRecords': a
// record's internal failure is "InternalFailure", which errors.Is matches
// with ErrInternalFailure.
func recordFailure(e BatchEntry) *Error {
	code := e.ErrorCode
	if code == "InternalFailure" {
		code = ErrInternalFailure.Code
	}
	err := &Error{Code: code, Message: e.ErrorMessage}
	for _, s := range []*Error{ErrProvisionedThroughputExceeded, ErrInternalFailure, ErrKMSAccessDenied, ErrKMSDisabled, ErrKMSNotFound, ErrKMSInvalidState} {
		if s.Code == code {
			err.Retryable = s.Retryable
		}
	}
	return err
}

// maxKeyUnits is the longest partition key, in UTF-16 code units.
const maxKeyUnits = 256

// keyUnits counts s in UTF-16 code units, stopping early once past the limit.
func keyUnits(s string) int {
	if len(s) <= maxKeyUnits {
		return len(s) // UTF-8 never takes fewer bytes than UTF-16 units
	}
	n := 0
	for i := 0; i < len(s) && n <= maxKeyUnits; {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// checkRecord validates one record's key, data and explicit hash key and
// returns its size and hash key. batchIndex is the record's 0-based place in
// a PutBatch, or -1 for Put; it names the member in messages.
func (s *Stream) checkRecord(in *PutInput, batchIndex int) (int, hashkey.Key, error) {
	c := &s.acct.cfg
	prefix := func() string {
		if batchIndex < 0 {
			return ""
		}
		return "records." + strconv.Itoa(batchIndex+1) + ".member."
	}
	if in.PartitionKey == "" {
		return 0, hashkey.Key{}, validation(prefix()+"partitionKey", "", "have length greater than or equal to 1")
	}
	if keyUnits(in.PartitionKey) > maxKeyUnits {
		return 0, hashkey.Key{}, validation(prefix()+"partitionKey", in.PartitionKey, "have length less than or equal to 256")
	}
	if len(in.Data) > c.maxRecordSize {
		return 0, hashkey.Key{}, validation(prefix()+"data", "", "have length less than or equal to "+strconv.Itoa(c.maxRecordSize))
	}
	size := len(in.Data) + len(in.PartitionKey)
	if size > c.maxRecordSize {
		return 0, hashkey.Key{}, newError(ErrInvalidArgument,
			"Record size %d (data plus partition key) exceeds the maximum record size of %d bytes.", size, c.maxRecordSize)
	}
	if in.ExplicitHashKey != "" {
		k, err := hashkey.Parse(in.ExplicitHashKey)
		if err != nil {
			return 0, hashkey.Key{}, newError(ErrInvalidArgument,
				"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", in.ExplicitHashKey)
		}
		return size, k, nil
	}
	if c.hasher == XXHash {
		return size, c.hash(in.PartitionKey), nil // cheaper than the cache
	}
	kc := s.keys.Load()
	if kc == nil {
		s.keys.CompareAndSwap(nil, new(keyCache))
		kc = s.keys.Load()
	}
	return size, kc.lookup(in.PartitionKey, c.hash), nil
}

func (c *config) hash(partitionKey string) hashkey.Key {
	if c.hasher == XXHash {
		h := xxhash.Sum64String(partitionKey)
		// The high word routes; the low word only breaks ties inside it.
		return hashkey.Key{Hi: h, Lo: h * 0x9E3779B97F4A7C15}
	}
	return hashkey.FromMD5(partitionKey)
}
