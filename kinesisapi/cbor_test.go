package kinesisapi_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// javaCBOR encodes a request as the Java SDK does (RFC 8949, with AWS's
// rules): maps of text keys, blobs as byte strings, timestamps as tag 1
// around milliseconds since the epoch. Written here, not taken from the
// handler's library, so that the test checks the handler against the
// rules rather than against itself.
func javaCBOR(v any) []byte {
	var b []byte
	head := func(major byte, n uint64) {
		switch {
		case n < 24:
			b = append(b, major<<5|byte(n))
		case n <= math.MaxUint8:
			b = append(b, major<<5|24, byte(n))
		case n <= math.MaxUint16:
			b = binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(n))
		case n <= math.MaxUint32:
			b = binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(n))
		default:
			b = binary.BigEndian.AppendUint64(append(b, major<<5|27), n)
		}
	}
	var enc func(v any)
	enc = func(v any) {
		switch v := v.(type) {
		case nil:
			b = append(b, 0xf6)
		case bool:
			b = append(b, map[bool]byte{false: 0xf4, true: 0xf5}[v])
		case int:
			if v < 0 {
				head(1, uint64(-1-v))
			} else {
				head(0, uint64(v))
			}
		case string:
			head(3, uint64(len(v)))
			b = append(b, v...)
		case []byte:
			head(2, uint64(len(v)))
			b = append(b, v...)
		case time.Time:
			head(6, 1)
			head(0, uint64(v.UnixMilli()))
		case []any:
			head(4, uint64(len(v)))
			for _, e := range v {
				enc(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			head(5, uint64(len(keys)))
			for _, k := range keys {
				enc(k)
				enc(v[k])
			}
		default:
			panic("javaCBOR: unsupported value")
		}
	}
	enc(v)
	return b
}

// cborDecode decodes an answer with maps of text keys, as a Java client
// reads them.
func cborDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	dm, err := cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any(nil))}.DecMode()
	require.NoError(t, err)
	require.NoError(t, dm.Unmarshal(b, v))
}

// cborCall sends op as a CBOR request and decodes the CBOR answer.
func cborCall(t *testing.T, h http.Handler, op string, in map[string]any) (int, map[string]any, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(javaCBOR(in)))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, "application/x-amz-cbor-1.1", rec.Header().Get("Content-Type"), rec.Body.String())
	var out map[string]any
	if rec.Body.Len() > 0 {
		cborDecode(t, rec.Body.Bytes(), &out)
	}
	return rec.Code, out, rec.Header()
}

// TestCBOR: requests in CBOR, as the Java SDK sends them, work for every
// kind of member (byte strings, tagged timestamps, lists, maps, nested
// structures), and answers come back in CBOR with blobs as byte strings
// and timestamps as milliseconds; errors too.
func TestCBOR(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct := newAccount(t, shardlog.WithClock(clk), shardlog.WithAccountID("123456789012"))
	h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())

	code, _, _ := cborCall(t, h, "CreateStream", map[string]any{"StreamName": "c", "ShardCount": 2, "Tags": map[string]any{"team": "core"}})
	require.Equal(t, http.StatusOK, code)
	code, out, _ := cborCall(t, h, "PutRecord", map[string]any{"StreamName": "c", "PartitionKey": "k", "Data": []byte{0, 1, 2, 0xff}})
	require.Equal(t, http.StatusOK, code)
	shard := out["ShardId"].(string)
	code, out, _ = cborCall(t, h, "PutRecords", map[string]any{"StreamName": "c", "Records": []any{
		map[string]any{"PartitionKey": "k", "Data": []byte("second")},
		map[string]any{"PartitionKey": "k", "Data": []byte("third")},
	}})
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 0, out["FailedRecordCount"])

	// AT_TIMESTAMP with a tagged timestamp in milliseconds (read as
	// seconds, it too would lie in the future).
	code, _, _ = cborCall(t, h, "GetShardIterator", map[string]any{"StreamName": "c", "ShardId": shard,
		"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": t0.Add(-time.Second)})
	require.Equal(t, http.StatusOK, code)
	// An untagged integer is milliseconds too (read as seconds, it would
	// lie in the future, which GetShardIterator refuses).
	code, out, _ = cborCall(t, h, "GetShardIterator", map[string]any{"StreamName": "c", "ShardId": shard,
		"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": int(t0.UnixMilli() - 1)})
	require.Equal(t, http.StatusOK, code)
	code, out, _ = cborCall(t, h, "GetRecords", map[string]any{"ShardIterator": out["ShardIterator"]})
	require.Equal(t, http.StatusOK, code)
	records := out["Records"].([]any)
	require.Len(t, records, 3)
	first := records[0].(map[string]any)
	require.Equal(t, []byte{0, 1, 2, 0xff}, first["Data"], "a byte string")
	require.Equal(t, []byte("third"), records[2].(map[string]any)["Data"])
	// Tag 1 decodes to a time; its number is milliseconds, as the Java SDK
	// reads it, so read as seconds it is t0's milliseconds.
	arrival, ok := first["ApproximateArrivalTimestamp"].(time.Time)
	require.True(t, ok, "a tagged timestamp, got %T", first["ApproximateArrivalTimestamp"])
	require.Equal(t, t0.UnixMilli(), arrival.Unix())

	code, out, _ = cborCall(t, h, "ListTagsForStream", map[string]any{"StreamName": "c"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"Key": "team", "Value": "core"}}, out["Tags"])

	// Errors come back in CBOR, validation included.
	code, out, hdr := cborCall(t, h, "PutRecord", map[string]any{"StreamName": "nope", "PartitionKey": "k", "Data": []byte{}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "ResourceNotFoundException", out["__type"])
	require.Equal(t, "Stream nope under account 123456789012 not found.", out["message"])
	require.Equal(t, "ResourceNotFoundException", hdr.Get("X-Amzn-ErrorType"))
	code, out, _ = cborCall(t, h, "GetRecords", map[string]any{"Limit": 0})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "ValidationException", out["__type"])
	require.Contains(t, out["message"], "Value null at 'shardIterator'")

	// Operations without output answer with an empty body.
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(javaCBOR(map[string]any{"StreamName": "c", "RetentionPeriodHours": 48})))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.IncreaseStreamRetentionPeriod")
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Zero(t, rec.Body.Len())
	code, out, _ = cborCall(t, h, "IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "c", "RetentionPeriodHours": 1 << 62})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "InvalidArgumentException", out["__type"], "a huge period is too long, not wrapped around")
	require.Contains(t, out["message"], "is too long")

	// A body that is not CBOR is a SerializationException.
	req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte{0xbf, 0x61}))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, "SerializationException", rec.Header().Get("X-Amzn-ErrorType"))
}

// TestCBORSubscribeToShard: a CBOR SubscribeToShard gets its events in
// CBOR, with records' data as byte strings.
func TestCBORSubscribeToShard(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct := newAccount(t, shardlog.WithClock(clk), shardlog.WithAccountID("123456789012"))
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	c, err := s.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("hello")})
	require.NoError(t, err)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests()))
	defer srv.Close()

	body := javaCBOR(map[string]any{"ConsumerARN": c.ConsumerARN, "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/vnd.amazon.eventstream", resp.Header.Get("Content-Type"))

	frame := func() (map[string]string, []byte) {
		var prelude [12]byte
		_, err := io.ReadFull(resp.Body, prelude[:])
		require.NoError(t, err)
		total, headerLen := binary.BigEndian.Uint32(prelude[0:4]), binary.BigEndian.Uint32(prelude[4:8])
		rest := make([]byte, total-12)
		_, err = io.ReadFull(resp.Body, rest)
		require.NoError(t, err)
		headers := map[string]string{}
		for hb := rest[:headerLen]; len(hb) > 0; {
			n := int(hb[0])
			name := string(hb[1 : 1+n])
			vlen := int(binary.BigEndian.Uint16(hb[2+n : 4+n]))
			headers[name] = string(hb[4+n : 4+n+vlen])
			hb = hb[4+n+vlen:]
		}
		return headers, rest[headerLen : len(rest)-4]
	}
	headers, payload := frame()
	require.Equal(t, "initial-response", headers[":event-type"])
	require.Equal(t, "application/x-amz-cbor-1.1", headers[":content-type"])
	require.Equal(t, []byte{0xa0}, payload)
	headers, payload = frame()
	require.Equal(t, "SubscribeToShardEvent", headers[":event-type"])
	require.Equal(t, "application/x-amz-cbor-1.1", headers[":content-type"])
	var event map[string]any
	cborDecode(t, payload, &event)
	records := event["Records"].([]any)
	require.Len(t, records, 1)
	require.Equal(t, []byte("hello"), records[0].(map[string]any)["Data"])
	require.NotEmpty(t, event["ContinuationSequenceNumber"])
}
