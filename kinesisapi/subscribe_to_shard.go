package kinesisapi

import (
	"encoding/json"
	"net/http"

	"github.com/shardlog/shardlog"
)

type subscribeToShardInput struct {
	ConsumerARN      string           `json:"ConsumerARN"`
	ShardId          string           `json:"ShardId"`
	StartingPosition startingPosition `json:"StartingPosition"`
}

type subscribeToShardEvent struct {
	Records                    []wireRecord `json:"Records"`
	ContinuationSequenceNumber string       `json:"ContinuationSequenceNumber,omitempty"`
	MillisBehindLatest         int64        `json:"MillisBehindLatest"`
	ChildShards                []childShard `json:"ChildShards,omitempty"`
}

// eventStreamErrors are the exceptions the SubscribeToShard event stream
// models; others are sent as unmodeled errors.
var eventStreamErrors = map[string]bool{
	"ResourceNotFoundException": true, "ResourceInUseException": true, "InternalFailureException": true,
	"KMSDisabledException": true, "KMSInvalidStateException": true, "KMSAccessDeniedException": true,
	"KMSNotFoundException": true, "KMSOptInRequired": true, "KMSThrottlingException": true,
}

// subscribeToShard answers with an event stream: an initial-response event,
// then a SubscribeToShardEvent per batch, each flushed as it happens, and an
// exception event if the subscription ends with an error. Errors before the
// subscription starts are ordinary JSON errors.
func (h *handler) subscribeToShard(w http.ResponseWriter, r *http.Request, body []byte) {
	var in subscribeToShardInput
	if err := decode(body, &in); err != nil {
		writeCoreError(w, err)
		return
	}
	p := in.StartingPosition
	sub, err := h.acct.SubscribeToShard(r.Context(), in.ConsumerARN, in.ShardId, shardlog.StartingPosition{
		Type: shardlog.IteratorType(p.Type), SequenceNumber: p.SequenceNumber, Timestamp: ts(p.Timestamp),
	})
	if err != nil {
		writeCoreError(w, err)
		return
	}
	defer sub.Close()
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	send := func(frame []byte) bool {
		if _, err := w.Write(frame); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if !send(eventFrame(nil, "initial-response", []byte("{}"))) {
		return
	}
	var buf []byte
	enc := h.encryptionOfConsumer(r, in.ConsumerARN)
	for ev := range sub.Events() {
		out := subscribeToShardEvent{
			Records:            records(ev.Records, enc),
			MillisBehindLatest: ev.MillisBehindLatest,
			ChildShards:        childShards(ev.ChildShards),
		}
		if !ev.ContinuationSequenceNumber.IsZero() {
			out.ContinuationSequenceNumber = ev.ContinuationSequenceNumber.String()
		}
		payload, err := json.Marshal(out)
		if err != nil {
			return
		}
		if buf = eventFrame(buf[:0], "SubscribeToShardEvent", payload); !send(buf) {
			return
		}
	}
	if err := sub.Err(); err != nil && r.Context().Err() == nil {
		code, msg, _ := errorStatus(err)
		if eventStreamErrors[code] {
			payload, _ := json.Marshal(map[string]string{"message": msg})
			send(exceptionFrame(nil, code, payload))
			return
		}
		send(errorFrame(nil, code, msg))
	}
}

// encryptionOfConsumer returns the encryption type of a consumer's stream.
func (h *handler) encryptionOfConsumer(r *http.Request, consumerARN string) string {
	a := h.acct
	c, err := a.DescribeStreamConsumer(r.Context(), shardlog.ConsumerRef{ConsumerARN: consumerARN})
	if err != nil {
		return shardlog.EncryptionNone
	}
	s, err := a.Stream(shardlog.StreamRef{StreamARN: c.StreamARN})
	if err != nil {
		return shardlog.EncryptionNone
	}
	return encryptionOf(s)
}
