package firehoseapi

import (
	"context"
	"net/http"

	"github.com/shardlog/shardlog/firehose"
)

// putTarget returns the delivery stream name takes records into, and
// whether its records are encrypted.
func (s *Server) putTarget(name string) (*firehose.DeliveryStream, bool, error) {
	s.mu.Lock()
	d, err := s.lookup(name)
	var encrypted bool
	if err == nil {
		encrypted = d.def.Encryption.Status == "ENABLED"
	}
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	ds := d.running()
	if ds == nil {
		return nil, false, &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException",
			message: "The delivery stream " + name + " is not running; see the server's log."}
	}
	return ds, encrypted, nil
}

func (s *Server) putRecord(ctx context.Context, in *putRecordInput) (any, error) {
	ds, encrypted, err := s.putTarget(in.target())
	if err != nil {
		return nil, err
	}
	out, err := ds.PutRecord(ctx, in.Record.Data)
	if err != nil {
		return nil, err
	}
	return struct {
		RecordId  string
		Encrypted bool
	}{out.RecordID, encrypted}, nil
}

type batchEntry struct {
	RecordId     string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

func (s *Server) putRecordBatch(ctx context.Context, in *putRecordBatchInput) (any, error) {
	ds, encrypted, err := s.putTarget(in.target())
	if err != nil {
		return nil, err
	}
	records := make([][]byte, len(in.Records))
	for i, r := range in.Records {
		records[i] = r.Data
	}
	out, err := ds.PutRecordBatch(ctx, records)
	if err != nil {
		return nil, err
	}
	entries := make([]batchEntry, len(out.RequestResponses))
	for i, r := range out.RequestResponses {
		entries[i] = batchEntry{r.RecordID, r.ErrorCode, r.ErrorMessage}
	}
	return struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []batchEntry
	}{out.FailedPutCount, encrypted, entries}, nil
}
