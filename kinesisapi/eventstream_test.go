package kinesisapi

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventFrame encodes frames and decodes them with the SDK's own
// event-stream decoder: headers and payload must round-trip.
func FuzzEventFrame(f *testing.F) {
	f.Add("SubscribeToShardEvent", []byte(`{"Records":[]}`))
	f.Add("initial-response", []byte("{}"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, eventType string, payload []byte) {
		if len(eventType) > 1<<15 || len(payload) > 1<<20 {
			t.Skip("beyond the sizes one event carries")
		}
		var buf []byte
		buf = eventFrame(buf, eventType, payload)
		buf = exceptionFrame(buf, "ResourceInUseException", payload)
		dec := eventstream.NewDecoder()
		r := bytes.NewReader(buf)
		for i, want := range []string{"event", "exception"} {
			msg, err := dec.Decode(r, nil)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if got := msg.Headers.Get(":message-type"); got == nil || got.String() != want {
				t.Fatalf("frame %d: message type %v", i, got)
			}
			if !bytes.Equal(msg.Payload, payload) {
				t.Fatalf("frame %d: payload changed", i)
			}
		}
		if r.Len() != 0 {
			t.Fatalf("%d bytes left over", r.Len())
		}
	})
}

func TestEventFrameHeaders(t *testing.T) {
	msg, err := eventstream.NewDecoder().Decode(bytes.NewReader(eventFrame(nil, "initial-response", []byte("{}"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{":event-type": "initial-response", ":content-type": "application/json", ":message-type": "event"} {
		if got := msg.Headers.Get(name); got == nil || got.String() != want {
			t.Errorf("%s = %v, want %s", name, got, want)
		}
	}
	e, err := eventstream.NewDecoder().Decode(bytes.NewReader(errorFrame(nil, "InternalFailure", "boom")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Headers.Get(":error-code").String() != "InternalFailure" || e.Headers.Get(":error-message").String() != "boom" {
		t.Errorf("error frame headers %v", e.Headers)
	}
}
