package kinesisapi

import (
	"errors"
	"regexp"
	"testing"

	"github.com/shardlog/shardlog"
)

// FuzzValidate: validation never panics and answers nil, a
// ValidationException listing at most ten violations, or a
// SerializationException; and a PutRecords body that the fast path accepts
// and prechecks as valid has no violation at all, so the precheck never
// lets one through.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"},{"Data":"","PartitionKey":"é","ExplicitHashKey":"5"}]}`,
		`{"StreamName":"","Records":[{"PartitionKey":"","Data":"","ExplicitHashKey":""}]}`,
		`{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[{"PartitionKey":"k","Data":"+/+="}]}`,
		`{"Tags":{"a":"1","":"x"},"StreamName":"s"}`, `{"TagKeys":["a",""]}`, `{"Limit":0,"ShardIterator":""}`,
		`{"StartingPosition":{"Type":"X","SequenceNumber":"01"},"ShardId":"a b"}`, `{"X":[[{}]],"Limit":1e3}`,
		`{}`, ``, `[]`, `{"StreamName":"a\u0020b"}`, `{"ShardFilter":{"Type":null}}`,
	} {
		f.Add(s)
	}
	ops := make([]string, 0, len(inputShapes))
	for op := range inputShapes {
		ops = append(ops, op)
	}
	header := regexp.MustCompile(`^(1 validation error|([2-9]|10) validation errors) detected: `)
	f.Fuzz(func(t *testing.T, body string) {
		for _, op := range ops {
			err := validateBody([]byte(body), inputShapes[op])
			var se *serializationError
			var e *shardlog.Error
			switch {
			case err == nil, errors.As(err, &se):
			case errors.As(err, &e) && e.Code == "ValidationException":
				if !header.MatchString(e.Message) {
					t.Fatalf("%s %q: %s", op, body, e.Message)
				}
			default:
				t.Fatalf("%s %q: %v", op, body, err)
			}
		}
		var ref streamRef
		var recs []shardlog.PutInput
		var data []byte
		if fastPutRecords([]byte(body), &ref, &recs, &data) && putRecordsValid(&ref, recs) {
			if err := validateBody([]byte(body), shapePutRecordsInput); err != nil {
				t.Fatalf("prechecked as valid, but: %v", err)
			}
		}
	})
}
