package kinesisapi

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// The Java SDKs, and so the Java KCL, speak CBOR (application/x-amz-cbor-1.1)
// by default: the JSON protocol's documents, encoded as CBOR, with blobs as
// byte strings and timestamps as milliseconds since the epoch (tagged 1 in
// requests). The handler transcodes: a CBOR request becomes the JSON an SDK
// would have sent, guided by the operation's input shape, and goes through
// the same decoding and validation; a JSON answer becomes CBOR by the
// output shape.

// cborDecoding bounds what a CBOR body can make the decoder build: no
// Kinesis request nests deeper or carries longer lists and maps.
var cborDecoding = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:  maxDepth,
		MaxArrayElements: 2 * maxItems,
		MaxMapPairs:      2 * maxItems,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var cborEncoding = func() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// cborToJSON returns the JSON document a CBOR request body stands for.
func cborToJSON(body []byte, s *shape) ([]byte, error) {
	var v any
	if err := cborDecoding.Unmarshal(body, &v); err != nil {
		return nil, &serializationError{"The request body is not valid CBOR."}
	}
	if _, ok := v.(map[string]any); !ok || hasTag(v) {
		return nil, &serializationError{"The request body is not a CBOR map of the operation's shape."}
	}
	return json.Marshal(reshape(v, s, fromCBOR))
}

// hasTag reports whether v holds a tag other than a timestamp's: the SDKs
// send none.
func hasTag(v any) bool {
	switch v := v.(type) {
	case cbor.Tag, cbor.RawTag:
		return true
	case map[string]any:
		for _, e := range v {
			if hasTag(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasTag(e) {
				return true
			}
		}
	}
	return false
}

// reshape replaces every leaf of v (a value but a map or a list) by leaf
// of it and its shape, s being v's shape (nil if unknown).
func reshape(v any, s *shape, leaf func(any, *shape) any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = reshape(e, memberShape(s, k), leaf)
		}
		return v
	case []any:
		var elem *shape
		if s != nil {
			elem = s.Elem
		}
		for i, e := range v {
			v[i] = reshape(e, elem, leaf)
		}
		return v
	}
	return leaf(v, s)
}

// fromCBOR turns a decoded CBOR value into what encoding/json writes as
// the JSON protocol's value of shape s: timestamps become seconds, byte
// strings base64 (encoding/json's []byte).
func fromCBOR(v any, s *shape) any {
	switch v := v.(type) {
	case time.Time: // tag 1, whose number the SDKs write in milliseconds
		return millisToSeconds(float64(v.Unix()) + float64(v.Nanosecond())/1e9)
	case int64: // integers decode signed (IntDecConvertSignedOrFail)
		if s != nil && s.Kind == kindTimestamp {
			return millisToSeconds(float64(v))
		}
	case float64:
		if s != nil && s.Kind == kindTimestamp {
			return millisToSeconds(v)
		}
	}
	return v
}

// millisToSeconds writes whole milliseconds as JSON seconds.
func millisToSeconds(ms float64) json.Number {
	return json.Number(strconv.FormatFloat(math.Round(ms)/1000, 'f', -1, 64))
}

// memberShape is the shape of member (or map value) k of s, or nil.
func memberShape(s *shape, k string) *shape {
	switch {
	case s == nil:
		return nil
	case s.Kind == kindMap:
		return s.Value
	}
	for _, m := range s.Members {
		if m.Name == k {
			return m.Shape
		}
	}
	return nil
}

// jsonToCBOR returns the CBOR encoding of a JSON answer of shape s: blobs
// as byte strings, timestamps as milliseconds tagged 1.
func jsonToCBOR(body []byte, s *shape) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return cborEncoding.Marshal(reshape(v, s, toCBOR))
}

// toCBOR turns a JSON leaf (decoded with UseNumber) of shape s into its
// CBOR value: blobs become byte strings, timestamps milliseconds tagged 1.
func toCBOR(v any, s *shape) any {
	switch v := v.(type) {
	case string:
		// Only base64 that encodes back to itself: the decoder would
		// skip line breaks and loose padding bits, and the round trip
		// would change the text.
		if s != nil && s.Kind == kindBlob && strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
			if b, err := strictBase64.DecodeString(v); err == nil {
				return b
			}
		}
	case json.Number:
		if s != nil && s.Kind == kindTimestamp {
			f, _ := v.Float64()
			return cbor.Tag{Number: 1, Content: int64(math.Round(f * 1000))}
		}
		if n, err := v.Int64(); err == nil && (n != 0 || v[0] != '-') { // -0 stays a float
			return n
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// cborResponse holds an answer back until it is complete, then writes it
// as CBOR (JSON answers; the XML of requests AWS cannot route stays).
// Transcoding holds the answer about three times over, so it takes that
// much of the handler's memory budget first, waiting for it up to wait:
// many large answers at once are transcoded in turn.
type cborResponse struct {
	http.ResponseWriter
	shape  *shape
	status int
	body   bytes.Buffer
	memory *memory
	who    holder // whose memory it takes
	wait   time.Duration
}

func (c *cborResponse) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *cborResponse) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (c *cborResponse) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// finish writes what was held back.
func (c *cborResponse) finish() {
	if c.status == 0 {
		return
	}
	h := c.ResponseWriter.Header()
	body := c.body.Bytes()
	if h.Get("Content-Type") == jsonType && c.memory != nil && len(body) > 0 {
		cost := 3 * int64(len(body))
		ctx, cancel := context.WithTimeout(context.Background(), c.wait)
		err := c.memory.acquire(ctx, c.who, cost)
		cancel()
		if err != nil {
			h.Set("Retry-After", "1")
			c.status, body = http.StatusServiceUnavailable, []byte(`{"__type":"ServiceUnavailableException","message":"The server is busy; retry the request."}`)
			h.Set("X-Amzn-ErrorType", "ServiceUnavailableException")
		} else {
			defer c.memory.release(c.who, cost)
		}
	}
	if h.Get("Content-Type") == jsonType {
		h.Set("Content-Type", cborType)
		if len(body) > 0 {
			shape := c.shape
			if c.status != http.StatusOK {
				shape = nil // an error: __type and message
			}
			if out, err := jsonToCBOR(body, shape); err == nil {
				body = out
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.ResponseWriter.WriteHeader(c.status)
	_, _ = c.ResponseWriter.Write(body)
}

func cborEventHeaders(eventType string) []header {
	return []header{{":event-type", eventType}, {":content-type", cborType}, {":message-type", "event"}}
}

// cborEventFrame is a SubscribeToShardEvent frame with a CBOR payload.
func cborEventFrame(event *eventBody) []byte {
	var js bytes.Buffer
	x := getWriter(&js)
	event.emit(x)
	x.flush()
	putWriter(x)
	payload, err := jsonToCBOR(js.Bytes(), shapeSubscribeToShardEvent)
	if err != nil {
		payload = []byte{0xa0}
	}
	return appendFrame(nil, cborEventHeaders("SubscribeToShardEvent"), payload)
}
