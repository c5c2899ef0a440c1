package kinesisapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

type subscribeToShardInput struct {
	ConsumerARN      string           `json:"ConsumerARN"`
	ShardId          string           `json:"ShardId"`
	StartingPosition startingPosition `json:"StartingPosition"`
}

// eventBody is a SubscribeToShardEvent's payload, written as encoding/json
// would write {Records, ContinuationSequenceNumber, MillisBehindLatest,
// ChildShards}.
type eventBody struct {
	records recordsBody
	ev      shardlog.SubscribeToShardEvent
}

func (e *eventBody) emit(s sink) {
	s.write([]byte(`{"Records":`))
	e.records.emit(s)
	p := e.records.scratch[:0]
	if !e.ev.ContinuationSequenceNumber.IsZero() {
		p = append(p, `,"ContinuationSequenceNumber":"`...)
		p, _ = e.ev.ContinuationSequenceNumber.AppendText(p)
		p = append(p, '"')
	}
	p = append(p, `,"MillisBehindLatest":`...)
	p = strconv.AppendInt(p, e.ev.MillisBehindLatest, 10)
	s.write(p)
	e.records.scratch = p
	emitChildShards(s, e.ev.ChildShards)
	s.write([]byte{'}'})
}

// eventStreamErrors are the exceptions the SubscribeToShard event stream
// models; others are sent as unmodeled errors.
var eventStreamErrors = map[string]bool{
	"ResourceNotFoundException": true, "ResourceInUseException": true, "InternalFailureException": true,
	"KMSDisabledException": true, "KMSInvalidStateException": true, "KMSAccessDeniedException": true,
	"KMSNotFoundException": true, "KMSOptInRequired": true, "KMSThrottlingException": true,
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// subscriptionEndGrace is how long the handler keeps writing once its
// subscription has ended: enough to deliver the last event to a client that
// reads, and no more to one that does not.
const subscriptionEndGrace = 2 * time.Second

// subscribeToShard answers with an event stream: an initial-response event,
// then a SubscribeToShardEvent per batch, each flushed as it happens, and an
// exception event if the subscription ends with an error. Errors before the
// subscription starts are ordinary JSON errors.
//
// Every frame must reach the client within the write timeout, and once the
// subscription ends (its five minutes, a takeover, Close) within
// subscriptionEndGrace: a client that stops reading holds the handler, its
// connection and its buffers no longer than that.
//
// With cborPayloads (a CBOR request), events carry CBOR, as the Java SDK
// expects them.
func (h *handler) subscribeToShard(w http.ResponseWriter, r *http.Request, body []byte, release func(), cborPayloads bool) {
	var in subscribeToShardInput
	err := decodeValid(body, &in, shapeSubscribeToShardInput)
	release() // the stream lasts minutes; it needs none of the body's memory
	if err != nil {
		writeCoreError(w, err)
		return
	}
	noteStream(r.Context(), &in)
	p := in.StartingPosition
	start := shardlog.StartingPosition{Type: shardlog.IteratorType(p.Type),
		SequenceNumber: shardlog.SequenceNumberAsSent(p.SequenceNumber), Timestamp: ts(p.Timestamp)}
	sub, err := h.acct.SubscribeToShard(r.Context(), shardlog.SubscribeToShardInput{ConsumerARN: in.ConsumerARN, ShardID: in.ShardId, StartingPosition: start})
	if err != nil {
		h.setWriteDeadline(w)
		writeCoreError(w, err)
		return
	}
	defer sub.Close()
	stopDrain := context.AfterFunc(h.drain, func() { sub.Close() }) // a clean end
	defer stopDrain()

	rc := http.NewResponseController(w)
	var mu sync.Mutex // guards ending and orders the deadlines set below
	ending := false
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	go func() { // cuts a blocked write short once the subscription is over
		defer close(watchDone)
		select {
		case <-sub.Done():
			mu.Lock()
			ending = true
			_ = rc.SetWriteDeadline(time.Now().Add(subscriptionEndGrace))
			mu.Unlock()
		case <-stopWatch:
		}
	}()
	defer func() { close(stopWatch); <-watchDone }() // before sub.Close: rc is not used after we return

	// Every write goes through writer, which first gives the client the
	// write timeout to take it, or what is left of the grace once the
	// subscription has ended.
	writer := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		if !ending && h.writeTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(h.writeTimeout))
		}
		mu.Unlock()
		return w.Write(p)
	})
	flush := func() bool {
		err := rc.Flush()
		return err == nil || errors.Is(err, http.ErrNotSupported)
	}
	send := func(frame []byte) bool {
		if _, err := writer.Write(frame); err != nil {
			return false
		}
		return flush()
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	initial := eventFrame(nil, "initial-response", []byte("{}"))
	if cborPayloads {
		initial = appendFrame(nil, cborEventHeaders("initial-response"), []byte{0xa0}) // {}
	}
	if !send(initial) {
		return
	}
	var event eventBody
	var scratch []byte
	for ev := range sub.Events() {
		event.ev, event.records.records = ev, ev.Records
		event.records.encryption = ""
		if ev.EncryptionType == shardlog.EncryptionKMS {
			event.records.encryption = string(ev.EncryptionType)
		}
		if cborPayloads {
			if !send(cborEventFrame(&event)) {
				return
			}
			continue
		}
		var err error
		if scratch, err = writeFrame(writer, subscribeToShardEventHeaders, &event, scratch); err != nil || !flush() {
			return
		}
	}
	if err := sub.Err(); err != nil && r.Context().Err() == nil {
		code, msg, _ := errorStatus(err)
		if eventStreamErrors[code] {
			payload, _ := json.Marshal(map[string]string{"message": msg})
			frame := exceptionFrame(nil, code, payload)
			if cborPayloads {
				payload, _ = cborEncoding.Marshal(map[string]string{"message": msg})
				frame = appendFrame(nil, []header{{":exception-type", code}, {":content-type", cborType}, {":message-type", "exception"}}, payload)
			}
			send(frame)
			return
		}
		send(errorFrame(nil, code, msg))
	}
}
