package firehoseapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
)

// FuzzRequest: any body to any operation gets a JSON answer with a status
// AWS uses, never a panic; whatever the server made, it can describe.
func FuzzRequest(f *testing.F) {
	ops := []string{"CreateDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams", "DeleteDeliveryStream", "UpdateDestination",
		"PutRecord", "PutRecordBatch", "TagDeliveryStream", "UntagDeliveryStream", "ListTagsForDeliveryStream",
		"StartDeliveryStreamEncryption", "StopDeliveryStreamEncryption"}
	for i, seed := range []string{
		`{"DeliveryStreamName":"d",` + s3JSON + `}`,
		`{"DeliveryStreamName":"d","HttpEndpointDestinationConfiguration":{"EndpointConfiguration":{"Url":"https://x"},"S3Configuration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:x"}}}`,
		`{"DeliveryStreamName":"d"}`, `{}`, `{"Limit":3}`, `{"DeliveryStreamName":"d","AllowForceDelete":true}`,
		`{"DeliveryStreamName":"d","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"Prefix":"p/"}}`,
		`{"DeliveryStreamName":"d","Record":{"Data":"eA=="}}`, `{"DeliveryStreamName":"d","Records":[{"Data":"eA=="},null]}`,
		`{"DeliveryStreamName":"d","Tags":[{"Key":"k","Value":"v"}]}`, `{"DeliveryStreamName":"d","TagKeys":["k"]}`,
		`{"DeliveryStreamName":"d","ExclusiveStartTagKey":"k","Limit":1}`,
		`{"DeliveryStreamName":"d","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"}}`, `[]`, `{"DeliveryStreamName":null}`,
	} {
		f.Add(uint8(i), seed)
	}
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	if err != nil {
		f.Fatal(err)
	}
	defer acct.Close()
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: f.TempDir(), UnsignedRequests: true, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		for _, name := range []string{ops[int(op)%len(ops)], "DescribeDeliveryStream"} {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "Firehose_20150804."+name)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			switch w.Code {
			case 200, 400, 413, 503:
			default:
				t.Fatalf("%s %q: status %d", name, body, w.Code)
			}
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s %q: answer %q is not JSON", name, body, w.Body.String())
			}
			if w.Code != 200 && out["__type"] == nil {
				t.Fatalf("%s %q: error without __type: %s", name, body, w.Body.String())
			}
		}
	})
}
