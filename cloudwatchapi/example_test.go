package cloudwatchapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

// Serve CloudWatch's metric reads for an account and ask, as the AWS CLI
// does, how many records a stream took in.
func ExampleNewHandler() {
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	acct, _ := shardlog.NewAccount(shardlog.WithClock(shardlog.NewManualClock(start)))
	defer acct.Close()
	s, _ := acct.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	for _, key := range []string{"a", "b", "c"} {
		_, _ = s.Put(context.Background(), shardlog.PutInput{PartitionKey: key, Data: []byte("order")})
	}

	srv := httptest.NewServer(cloudwatchapi.NewHandler(acct, cloudwatchapi.WithUnsignedRequests()))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(fmt.Sprintf(
		`{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"orders"}],
		  "StartTime":%d,"EndTime":%d,"Period":3600,"Statistics":["Sum"]}`, start.Unix(), start.Add(time.Hour).Unix())))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricStatistics")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: {"Label":"IncomingRecords","Datapoints":[{"Timestamp":1767323040,"Sum":3.0,"Unit":"Count"}]}
}
