package kinesisapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzFastPutRecords: whenever the fast decoder accepts a body,
// encoding/json decodes it to the same value.
func FuzzFastPutRecords(f *testing.F) {
	for _, s := range []string{
		`{"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"},{"Data":"","PartitionKey":"é","ExplicitHashKey":"5"}]}`,
		`{"Records":[],"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s"}`,
		` { "Records" : [ { "PartitionKey" : "k" , "Data" : "AAEC/w==" } ] } `,
		`{"Records":[{"Data":"a\u0041=="}]}`, `{"Records":null}`, `{}`, `[]`, `{"StreamName":"s"}x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fast putRecordsInput
		if !fastPutRecords([]byte(body), &fast) {
			return
		}
		var slow putRecordsInput
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", body, err)
		}
		if len(fast.Records) == 0 && len(slow.Records) == 0 {
			fast.Records, slow.Records = nil, nil
		}
		for i := range fast.Records {
			if len(fast.Records[i].Data) == 0 && len(slow.Records[i].Data) == 0 {
				fast.Records[i].Data, slow.Records[i].Data = nil, nil
			}
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

func TestAppendPutRecordsOutputMatchesEncodingJSON(t *testing.T) {
	for _, out := range []putRecordsOutput{
		{Records: []putRecordsEntry{}},
		{FailedRecordCount: 1, EncryptionType: "KMS", Records: []putRecordsEntry{
			{SequenceNumber: "4000", ShardId: "shardId-000000000000"},
			{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: `Rate "exceeded" <for> shard & more`},
		}},
	} {
		want, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		got := appendPutRecordsOutput(nil, &out)
		var a, b any
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}
