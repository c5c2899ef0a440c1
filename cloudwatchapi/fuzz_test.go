package cloudwatchapi_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

// FuzzRequest sends arbitrary bodies to every operation in each protocol:
// the handler never panics or fails inside, and always answers a document
// of the request's protocol.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"Namespace":"AWS/Kinesis","MetricName":"IncomingBytes","Dimensions":[{"Name":"StreamName","Value":"s"}],"StartTime":1767322800,"EndTime":1767326400,"Period":60,"Statistics":["Sum"]}`,
		`{"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingBytes"},"Period":60,"Stat":"p99"}}],"StartTime":1,"EndTime":2,"NextToken":"bzE"}`,
		`Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=m&MetricDataQueries.member.1.MetricStat.Stat=Sum&StartTime=1970-01-01T00:00:00Z`,
		"\xbfjMetricNamen__MetricName__fPeriod\x18<\xff",
	} {
		for p := range 3 {
			for op := range 3 {
				f.Add(uint8(p), uint8(op), []byte(seed))
			}
		}
	}
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk))
	if err != nil {
		f.Fatal(err)
	}
	defer acct.Close()
	if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1}); err != nil {
		f.Fatal(err)
	}
	h := cloudwatchapi.NewHandler(acct, cloudwatchapi.WithUnsignedRequests())
	ops := []string{"GetMetricStatistics", "GetMetricData", "ListMetrics"}
	f.Fuzz(func(t *testing.T, protocol, op uint8, body []byte) {
		name := ops[int(op)%len(ops)]
		var r *http.Request
		switch protocol % 3 {
		case 0:
			r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+name)
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		case 1:
			r = httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/"+name, strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/cbor")
		case 2:
			r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action="+name+"&Version=2010-08-01&"+string(body)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s: HTTP %d: %s", name, w.Code, w.Body)
		}
		var doc any
		var err error
		switch protocol % 3 {
		case 0:
			err = json.Unmarshal(w.Body.Bytes(), &doc)
		case 1:
			err = cbor.Unmarshal(w.Body.Bytes(), &doc)
		case 2:
			err = xml.Unmarshal(w.Body.Bytes(), new(struct{}))
		}
		if err != nil {
			t.Fatalf("%s: the answer is no document of its protocol: %v: %q", name, err, w.Body)
		}
	})
}
