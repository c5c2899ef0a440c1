package kinesisapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// FuzzCBOR: transcoding never panics; what decodes from CBOR is valid
// JSON; and a CBOR request, turned into JSON, back into CBOR and into JSON
// again, reads the same both times: the two codecs agree on every shape.
func FuzzCBOR(f *testing.F) {
	for _, seed := range []any{
		map[string]any{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte{0, 1, 0xff}}}},
		map[string]any{"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: int64(1700000000123)}},
		map[string]any{"StartingPosition": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(5)}},
		map[string]any{"Tags": map[string]any{"a": "b"}, "ShardCount": int64(-3), "Limit": 1.5},
		map[string]any{"Data": "not bytes", "X": []any{nil, true, uint64(1 << 63)}},
	} {
		b, err := cbor.Marshal(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xbf, 0x61, 0x61, 0x9f, 0xff, 0xff}) // indefinite lengths
	f.Fuzz(func(t *testing.T, body []byte) {
		for op, s := range inputShapes {
			first, err := cborToJSON(body, s)
			if err != nil {
				continue
			}
			if !json.Valid(first) {
				t.Fatalf("%s: invalid JSON %s", op, first)
			}
			again, err := jsonToCBOR(first, s)
			if err != nil {
				t.Fatalf("%s: %s does not go back to CBOR: %v", op, first, err)
			}
			second, err := cborToJSON(again, s)
			if err != nil {
				t.Fatalf("%s: round trip of %s: %v", op, first, err)
			}
			if string(first) != string(second) {
				t.Fatalf("%s: %s became %s", op, first, second)
			}
		}
	})
}

// TestCBORAnswersTakeMemory: transcoding an answer to CBOR waits for its
// share of the memory budget, so that many large answers are transcoded
// in turn, not all at once.
func TestCBORAnswersTakeMemory(t *testing.T) {
	b := newMemory(1<<20, 1<<20, 1<<20)
	var who holder
	waiting := make(chan struct{}, 1)
	b.onWait = func() { waiting <- struct{}{} }
	if err := b.acquire(context.Background(), who, 1<<20); err != nil { // all of it
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c := &cborResponse{ResponseWriter: rec, memory: b, wait: time.Minute, shape: outputShapes["ListStreams"]}
	c.Header().Set("Content-Type", jsonType)
	_, _ = c.Write([]byte(`{"StreamNames":["a"],"HasMoreStreams":false}`))
	done := make(chan struct{})
	go func() {
		c.finish()
		close(done)
	}()
	<-waiting // finish waits for memory
	select {
	case <-done:
		t.Fatal("transcoded without memory")
	default:
	}
	b.release(who, 1<<20)
	<-done
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != cborType {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var out map[string]any
	if err := cbor.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["HasMoreStreams"] != false {
		t.Fatalf("%v %v", out, err)
	}

	// With no memory to be had within the wait, the client is asked to
	// come back.
	if err := b.acquire(context.Background(), who, 1<<20); err != nil {
		t.Fatal(err)
	}
	b.onWait = nil
	rec = httptest.NewRecorder()
	c = &cborResponse{ResponseWriter: rec, memory: b, wait: time.Millisecond}
	c.Header().Set("Content-Type", jsonType)
	_, _ = c.Write([]byte(`{"StreamNames":[]}`))
	c.finish()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d", rec.Code)
	}
}
