package kinesisapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
)

// serializationError is a request body that is not valid JSON of the
// operation's shape (including bad base64 and timestamps that are not
// numbers).
type serializationError struct{ msg string }

func (e *serializationError) Error() string { return e.msg }

// decode reads a request body into v. An empty body is an empty object.
// Errors are worded as AWS words them, never with Go's type names.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkShape(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return &serializationError{"Unexpected data after the request object."}
	}
	return nil
}

// decodeError turns an encoding/json error into AWS's SerializationException
// wording (that of its Java deserializer).
func decodeError(err error) error {
	var se *serializationError
	var ute *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &b64):
		return &serializationError{fmt.Sprintf("Value can not be converted to a Blob: Invalid Base64 character at position %d", int64(b64))}
	case errors.As(err, &ute):
		return &serializationError{typeMismatch(ute.Value, ute.Type)}
	}
	return &serializationError{"The request body is not valid JSON."}
}

// typeMismatch words a JSON value of kind value (string, number, bool,
// array, object) found where a value of type want belongs.
func typeMismatch(value string, want reflect.Type) string {
	for want.Kind() == reflect.Pointer {
		want = want.Elem()
	}
	value, _, _ = strings.Cut(value, " ") // "number 1.5" -> "number"
	var name string
	switch k := want.Kind(); {
	case k == reflect.Slice && want.Elem().Kind() == reflect.Uint8:
		name = "a Blob"
	case k == reflect.Slice || k == reflect.Array:
		if value == "object" {
			return "Start of structure or map found where not expected."
		}
		return "Expected list or null"
	case k == reflect.Map:
		if value == "array" {
			return "Start of list found where not expected"
		}
		return "Expected map or null"
	case k == reflect.Struct:
		if value == "array" {
			return "Start of list found where not expected"
		}
		return "Expected null"
	case k == reflect.String:
		name = "an String"
	case k == reflect.Bool:
		name = "an Boolean"
	default:
		name = "an Integer"
	}
	switch value {
	case "object":
		return "Start of structure or map found where not expected."
	case "array":
		return "Start of list found where not expected"
	case "string":
		return "class java.lang.String can not be converted to " + name
	case "bool":
		return "class java.lang.Boolean can not be converted to " + name
	}
	return "class java.math.BigDecimal can not be converted to " + name
}

// epoch is a timestamp on the wire: a JSON number of seconds since the Unix
// epoch, with a fraction for milliseconds.
type epoch struct{ time.Time }

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := e.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	// Past ±maxEpochSeconds the milliseconds would not fit an int64.
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxEpochSeconds || len(b) == 0 || b[0] == '"' {
		return &serializationError{"Timestamps must be numbers of seconds since the Unix epoch."}
	}
	e.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// maxEpochSeconds bounds wire timestamps: about 292 million years either way.
const maxEpochSeconds = math.MaxInt64 / 1000

// ts returns the time of an optional wire timestamp (zero if absent).
func ts(e *epoch) time.Time {
	if e == nil {
		return time.Time{}
	}
	return e.Time
}

// streamRef reads the StreamName/StreamARN pair most inputs carry.
type streamRef struct {
	StreamName string `json:"StreamName,omitempty"`
	StreamARN  string `json:"StreamARN,omitempty"`
}

func (r streamRef) stream(ctx context.Context, a *shardlog.Account) (*shardlog.Stream, error) {
	return lookup(ctx, a, shardlog.StreamRef{StreamName: r.StreamName, StreamARN: r.StreamARN})
}

// lookup finds a stream. With access control on, a stream that is not
// there is, for a caller the operation's policies deny, AccessDenied
// rather than not found: a denied caller learns nothing of it, as on AWS.
// (A stream that is there is decided by the operation itself.)
func lookup(ctx context.Context, a *shardlog.Account, ref shardlog.StreamRef) (*shardlog.Stream, error) {
	s, err := a.Stream(ref)
	if err != nil && a.AccessControl() && errors.Is(err, shardlog.ErrResourceNotFound) {
		arn := ref.StreamARN
		if arn == "" {
			arn = a.StreamARN(ref.StreamName)
		}
		if _, denied := a.Authorize(ctx, "kinesis:"+operationOf(ctx), arn); denied != nil {
			return nil, denied
		}
	}
	return s, err
}

// shardMissing is how Kinesis answers an operation on shard id of a stream
// that lookup (err) did not find: a shard ID that names no shard is not
// found as given ("Could not find shard x-y ..."); a well-formed one is, for
// GetShardIterator (byShard), not found as a shard of the stream; otherwise
// err stands.
func (r streamRef) shardMissing(a *shardlog.Account, err error, id string, byShard bool) error {
	if !errors.Is(err, shardlog.ErrResourceNotFound) {
		return err
	}
	name := r.StreamName
	if name == "" {
		_, name, _ = strings.Cut(r.StreamARN, ":stream/")
	}
	canonical, ok := shardlog.CanonicalShardID(id)
	switch {
	case !ok:
		return &shardlog.Error{Code: shardlog.ErrResourceNotFound.Code,
			Message: "Could not find shard " + id + " in stream " + name + " under account " + a.AccountID() + "."}
	case byShard:
		return &shardlog.Error{Code: shardlog.ErrResourceNotFound.Code,
			Message: "Shard " + canonical + " in stream " + name + " under account " + a.AccountID() + " does not exist"}
	}
	return err
}

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type wireShard struct {
	ShardId               string              `json:"ShardId"`
	ParentShardId         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardId string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   sequenceNumberRange `json:"SequenceNumberRange"`
}

func shards(in []shardlog.Shard) []wireShard {
	out := make([]wireShard, len(in))
	for i, s := range in {
		out[i] = wireShard{
			ShardId:               s.ShardID,
			ParentShardId:         s.ParentShardID,
			AdjacentParentShardId: s.AdjacentParentShardID,
			HashKeyRange:          hashKeyRange(s.HashKeyRange),
			SequenceNumberRange: sequenceNumberRange{
				StartingSequenceNumber: s.SequenceNumberRange.StartingSequenceNumber.String(),
				EndingSequenceNumber:   s.SequenceNumberRange.EndingSequenceNumber.String(),
			},
		}
	}
	return out
}

type childShard struct {
	ShardId      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

func childShards(in []shardlog.ChildShard) []childShard {
	if len(in) == 0 {
		return nil
	}
	out := make([]childShard, len(in))
	for i, c := range in {
		out[i] = childShard{ShardId: c.ShardID, ParentShards: c.ParentShards, HashKeyRange: hashKeyRange(c.HashKeyRange)}
	}
	return out
}

type streamModeDetails struct {
	StreamMode string `json:"StreamMode"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func monitoring(metrics []string) []enhancedMetrics {
	if metrics == nil {
		metrics = []string{}
	}
	return []enhancedMetrics{{ShardLevelMetrics: metrics}}
}

type startingPosition struct {
	Type           string `json:"Type"`
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	Timestamp      *epoch `json:"Timestamp,omitempty"`
}

type wireConsumer struct {
	ConsumerName              string `json:"ConsumerName"`
	ConsumerARN               string `json:"ConsumerARN"`
	ConsumerStatus            string `json:"ConsumerStatus"`
	ConsumerCreationTimestamp epoch  `json:"ConsumerCreationTimestamp"`
	StreamARN                 string `json:"StreamARN,omitempty"`
}

func consumer(c shardlog.Consumer, withStream bool) wireConsumer {
	w := wireConsumer{
		ConsumerName:              c.ConsumerName,
		ConsumerARN:               c.ConsumerARN,
		ConsumerStatus:            string(c.ConsumerStatus),
		ConsumerCreationTimestamp: epoch{c.ConsumerCreationTimestamp},
	}
	if withStream {
		w.StreamARN = c.StreamARN
	}
	return w
}

// empty is the output of operations that return nothing.
type empty struct{}
