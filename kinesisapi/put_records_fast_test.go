package kinesisapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/shardlog/shardlog"
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
		var ref streamRef
		var fast []shardlog.PutInput
		data := bytes.Repeat([]byte{0xAA}, 4096)[:0] // a pooled buffer, reused when large enough
		if !fastPutRecords([]byte(body), &ref, &fast, &data) {
			return
		}
		var slow putRecordsInput
		if err := json.Unmarshal([]byte(body), &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", body, err)
		}
		if ref != slow.streamRef || len(fast) != len(slow.Records) {
			t.Fatalf("%q: fast %+v with %d records, encoding/json %+v with %d", body, ref, len(fast), slow.streamRef, len(slow.Records))
		}
		for i, r := range slow.Records {
			f := fast[i]
			if f.PartitionKey != r.PartitionKey || f.ExplicitHashKey != r.ExplicitHashKey || !bytes.Equal(f.Data, r.Data) {
				t.Fatalf("%q: record %d: fast %+v, encoding/json %+v", body, i, f, r)
			}
		}
	})
}

// The reference: what encoding/json writes for a PutRecords result.
type putRecordsEntry struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int               `json:"FailedRecordCount"`
	Records           []putRecordsEntry `json:"Records"`
	EncryptionType    string            `json:"EncryptionType,omitempty"`
}

func TestAppendPutRecordsOutputMatchesEncodingJSON(t *testing.T) {
	seq, err := shardlog.ParseSequenceNumber("40000000001000000000000000000000000000001000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []shardlog.PutBatchOutput{
		{Records: []shardlog.BatchEntry{}},
		{FailedRecordCount: 1, EncryptionType: "KMS", Records: []shardlog.BatchEntry{
			{SequenceNumber: seq, ShardID: "shardId-000000000000"},
			{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: `Rate "exceeded" <for> shard & more`},
		}},
	} {
		ref := putRecordsOutput{FailedRecordCount: res.FailedRecordCount, EncryptionType: string(res.EncryptionType), Records: []putRecordsEntry{}}
		for _, e := range res.Records {
			ref.Records = append(ref.Records, putRecordsEntry{SequenceNumber: e.SequenceNumber.String(), ShardId: e.ShardID, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage})
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ref); err != nil {
			t.Fatal(err)
		}
		if got := appendPutRecordsOutput(nil, &res); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("got %s, want %s", got, want.Bytes())
		}
	}
}

// FuzzPlainString: the word-at-a-time check agrees with a byte-by-byte
// one on every string.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAA\\AAAAAAAA", "AAAAAAAAAAAAAAA\x1f", "AAAAAAAA\x7fé", "\x00", "ab\"cdefghij"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wantPlain, wantASCII := true, true
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' || c < 0x20:
				wantPlain = false
			case c >= 0x80:
				wantASCII = false
			}
		}
		plain, ascii := plainString(s)
		if plain != wantPlain || plain && ascii != wantASCII {
			t.Fatalf("plainString(%q) = %v, %v; want %v, %v", s, plain, ascii, wantPlain, wantASCII)
		}
	})
}
