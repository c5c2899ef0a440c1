package kinesisapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/kinesisapi"
)

// BenchmarkAccessControl serves one PutRecords call of n x 100 B straight
// to the handler, unsigned with access control off and signed with it on
// (a producer whose role policy allows the call): the difference is what
// SigV4 verification and policy evaluation cost a call. One op is one call.
func BenchmarkAccessControl(b *testing.B) {
	for _, n := range []int{1, 500} {
		for _, checked := range []bool{false, true} {
			b.Run(fmt.Sprintf("records=%d/checked=%v", n, checked), func(b *testing.B) {
				now := time.Now().UTC()
				opts := []shardlog.Option{shardlog.WithoutLimits(), shardlog.WithAccountID(account), shardlog.WithClock(shardlog.NewManualClock(now))}
				if checked {
					opts = append(opts, shardlog.WithAccessControl())
				}
				acct, err := shardlog.NewAccount(opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer acct.Close()
				if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1}); err != nil {
					b.Fatal(err)
				}
				principal := "arn:aws:iam::" + account + ":user/producer"
				if err := acct.PutPrincipal(principal, iam.Producer.Document("arn:aws:kinesis:us-east-1:"+account+":stream/*")); err != nil {
					b.Fatal(err)
				}
				if err := acct.PutAccessKey("AKIDPRODUCER", "secret", principal); err != nil {
					b.Fatal(err)
				}
				h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
				data := base64.StdEncoding.EncodeToString(make([]byte, 100))
				recs := make([]string, n)
				for i := range recs {
					recs[i] = fmt.Sprintf(`{"Data":"%s","PartitionKey":"partition-%06d"}`, data, i)
				}
				body := []byte(`{"StreamName":"s","Records":[` + strings.Join(recs, ",") + `]}`)
				req, _ := http.NewRequest(http.MethodPost, "http://localhost/", bytes.NewReader(body))
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.RemoteAddr = "127.0.0.1:1234"
				if checked {
					sum := sha256.Sum256(body)
					if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDPRODUCER", SecretAccessKey: "secret"},
						req, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", now); err != nil {
						b.Fatal(err)
					}
				}
				w := &discard{h: http.Header{}}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r := req.Clone(ctx)
					r.Body = readerOf(body)
					h.ServeHTTP(w, r)
				}
			})
		}
	}
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func readerOf(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }
