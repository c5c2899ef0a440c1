package kinesisapi_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// discard is a ResponseWriter that keeps nothing, so that handler
// benchmarks measure the handler.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkHandlerPutRecords serves PutRecords of 500 x 100 B straight to
// the handler (no network, no SDK); one op is one record.
func BenchmarkHandlerPutRecords(b *testing.B) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		b.Fatal(err)
	}
	defer acct.Close()
	if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
	data := base64.StdEncoding.EncodeToString(make([]byte, 100))
	var recs []string
	for i := 0; i < 500; i++ {
		recs = append(recs, fmt.Sprintf(`{"Data":"%s","PartitionKey":"partition-%06d"}`, data, i))
	}
	body := []byte(`{"StreamName":"s","Records":[` + strings.Join(recs, ",") + `]}`)
	w := &discard{h: http.Header{}}
	b.SetBytes(int64(len(body)) / 500)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += 500 {
		req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		h.ServeHTTP(w, req)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHandlerGetRecords serves GetRecords of 10 000 x 100 B straight
// to the handler; one op is one record.
func BenchmarkHandlerGetRecords(b *testing.B) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		b.Fatal(err)
	}
	defer acct.Close()
	if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	s, _ := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: fmt.Sprintf("partition-%06d", i), Data: make([]byte, 100)}
	}
	for i := 0; i < 20; i++ {
		if _, err := s.PutBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for read := 0; read < b.N; read += 10000 {
		it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(`{"ShardIterator":"`+it+`"}`))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		h.ServeHTTP(w, req)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
