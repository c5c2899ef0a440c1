package kinesisapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/shardlog/shardlog"
)

// The reference: what encoding/json writes for records.

type wireRecord struct {
	SequenceNumber              string `json:"SequenceNumber"`
	ApproximateArrivalTimestamp epoch  `json:"ApproximateArrivalTimestamp"`
	Data                        []byte `json:"Data"`
	PartitionKey                string `json:"PartitionKey"`
	EncryptionType              string `json:"EncryptionType,omitempty"`
}

func records(in []shardlog.Record, typ shardlog.EncryptionType) []wireRecord {
	out := make([]wireRecord, len(in))
	encryption := string(typ)
	if typ == shardlog.EncryptionNone {
		encryption = ""
	}
	for i, r := range in {
		out[i] = wireRecord{
			SequenceNumber:              r.SequenceNumber.String(),
			ApproximateArrivalTimestamp: epoch{r.ApproximateArrivalTimestamp},
			Data:                        r.Data,
			PartitionKey:                r.PartitionKey,
			EncryptionType:              encryption,
		}
	}
	return out
}

func encodeJSON(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// written runs emit against a counter and a writer and checks they agree.
func written(t testing.TB, body streamed) []byte {
	var c counter
	body.emit(&c)
	var buf bytes.Buffer
	x := getWriter(&buf)
	body.emit(x)
	x.flush()
	putWriter(x)
	if c.n != buf.Len() {
		t.Fatalf("counted %d bytes, wrote %d", c.n, buf.Len())
	}
	return buf.Bytes()
}

// FuzzRecordsJSON: the streamed JSON of records is byte for byte what
// encoding/json writes, whatever the keys and data.
func FuzzRecordsJSON(f *testing.F) {
	f.Add("k", []byte("hi"), int64(1767323045123), false)
	f.Add("é\"\\\n\x00\u2028<>&\xff", bytes.Repeat([]byte{7}, 300), int64(0), true)
	f.Add("", []byte{}, int64(-5), false)
	f.Fuzz(func(t *testing.T, key string, data []byte, ms int64, kms bool) {
		ms %= 1 << 50
		seq, err := shardlog.ParseSequenceNumber("40000000001000000000000000000000000000001000000000000000")
		if err != nil {
			t.Fatal(err)
		}
		recs := []shardlog.Record{
			{SequenceNumber: seq, PartitionKey: key, Data: data, ApproximateArrivalTimestamp: time.UnixMilli(ms).UTC()},
			{SequenceNumber: seq, PartitionKey: "second", Data: data[:len(data)/2], ApproximateArrivalTimestamp: time.UnixMilli(ms + 1).UTC()},
		}
		enc := shardlog.EncryptionNone
		if kms {
			enc = shardlog.EncryptionKMS
		}
		b := newRecordsBody(recs, enc)
		got := written(t, &b)
		want := encodeJSON(t, records(recs, enc))
		if !bytes.Equal(got, want) {
			t.Fatalf("streamed %q\nencoding/json %q", trim(got), trim(want))
		}
	})
}

// TestRecordsJSONAcrossBufferBoundaries: data and keys of every length
// around the writer's buffer size come out whole.
func TestRecordsJSONAcrossBufferBoundaries(t *testing.T) {
	seq, _ := shardlog.ParseSequenceNumber("40000000001000000000000000000000000000001000000000000000")
	data := bytes.Repeat([]byte("0123456789"), 10000)
	for _, n := range []int{0, 1, 2, 3, writerBuffer/4*3 - 200, writerBuffer - 100, writerBuffer + 7, 3 * writerBuffer, len(data)} {
		for _, k := range []int{1, 2, 255} {
			recs := make([]shardlog.Record, 3)
			for i := range recs {
				recs[i] = shardlog.Record{SequenceNumber: seq, PartitionKey: strings.Repeat("k", k+i), Data: data[i : n-n/(i+1)+i]}
			}
			b := newRecordsBody(recs, shardlog.EncryptionKMS)
			if got, want := written(t, &b), encodeJSON(t, records(recs, shardlog.EncryptionKMS)); !bytes.Equal(got, want) {
				t.Fatalf("n=%d k=%d: streamed JSON differs from encoding/json", n, k)
			}
		}
	}
}

func trim(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\x7f", "é😀", "\u2028\u2029", "bad\xff\xfeutf8", "<&>", strings.Repeat("x", 300)} {
		got := string(appendJSONString(nil, s))
		want := string(encodeJSON(t, s))
		if got != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("%q: invalid UTF-8 out", s)
		}
	}
}

// TestStreamedEventFrameDecodes: a streamed SubscribeToShardEvent frame is
// read back by the SDK's decoder, payload as encoding/json would write it.
func TestStreamedEventFrameDecodes(t *testing.T) {
	seq, _ := shardlog.ParseSequenceNumber("40000000001000000000000000000000000000001000000000000000")
	recs := []shardlog.Record{{SequenceNumber: seq, PartitionKey: "k", Data: bytes.Repeat([]byte("abc"), 50000), ApproximateArrivalTimestamp: time.UnixMilli(1767323045123).UTC()}}
	ev := shardlog.SubscribeToShardEvent{Records: recs, ContinuationSequenceNumber: seq, MillisBehindLatest: 7,
		ChildShards: []shardlog.ChildShard{{ShardID: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}}}}
	var buf bytes.Buffer
	body := eventBody{records: newRecordsBody(recs, ""), ev: ev}
	if _, err := writeFrame(&buf, subscribeToShardEventHeaders, &body, nil); err != nil {
		t.Fatal(err)
	}
	msg, err := eventstream.NewDecoder().Decode(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := encodeJSON(t, struct {
		Records                    []wireRecord `json:"Records"`
		ContinuationSequenceNumber string       `json:"ContinuationSequenceNumber,omitempty"`
		MillisBehindLatest         int64        `json:"MillisBehindLatest"`
		ChildShards                []childShard `json:"ChildShards,omitempty"`
	}{records(recs, ""), seq.String(), 7, childShards(ev.ChildShards)})
	if !bytes.Equal(msg.Payload, want) {
		t.Fatalf("payload %q\nwant %q", trim(msg.Payload), trim(want))
	}
	if got := msg.Headers.Get(":event-type"); got == nil || got.String() != "SubscribeToShardEvent" {
		t.Fatalf("event type %v", got)
	}
}

// FuzzEpoch: the integer formatting of a wire timestamp writes what
// formatting the float would.
func FuzzEpoch(f *testing.F) {
	for _, ms := range []int64{0, 1, 999, 1000, 1001, -1, -999, -1000, -1500, 1767322245123, 1767322245100, -62135596800000} {
		f.Add(ms)
	}
	f.Fuzz(func(t *testing.T, ms int64) {
		ms %= 1 << 44 // five centuries either side of 1970, where the float formats exactly
		want := strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64)
		if ms%1000 == 0 {
			want = strconv.AppendInt(nil, ms/1000, 10)
		}
		if got := appendEpoch(nil, time.UnixMilli(ms)); string(got) != string(want) {
			t.Fatalf("appendEpoch(%d ms) = %s, want %s", ms, got, want)
		}
	})
}
