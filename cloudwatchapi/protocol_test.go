package cloudwatchapi_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

// signedShape is an Authorization header in SigV4's shape, which a
// handler without access control asks for and does not check.
const signedShape = "AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00"

// post sends body to h as the given protocol's client would.
func post(t *testing.T, h http.Handler, target, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Authorization", signedShape)
	r.Header.Set("X-Amz-Date", "20260102T030400Z")
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func handlerWithTraffic(t *testing.T) http.Handler {
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits())
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	traffic(t, acct, clk, []int{10, 30}, []int{20})
	return cloudwatchapi.NewHandler(acct)
}

// TestJSONProtocol: the AWS CLI's protocol, JSON 1.0 with epoch seconds;
// numbers as CloudWatch writes them (1.0), errors with the query code in
// X-Amzn-Query-Error.
func TestJSONProtocol(t *testing.T) {
	h := handlerWithTraffic(t)
	start := strconv.FormatInt(t0.Unix(), 10)
	end := strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)
	w := post(t, h, "GraniteServiceVersion20100801.GetMetricStatistics", "application/x-amz-json-1.0",
		`{"Namespace":"AWS/Kinesis","MetricName":"PutRecord.Bytes","Dimensions":[{"Name":"StreamName","Value":"orders"}],
		  "StartTime":`+start+`,"EndTime":`+end+`.5,"Period":3600,"Statistics":["Sum","SampleCount"]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/x-amz-json-1.0", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"Label":"PutRecord.Bytes","Datapoints":[{"Timestamp":`+start+`,"Sum":60.0,"SampleCount":3.0,"Unit":"Bytes"}]}`, w.Body.String())
	assert.Contains(t, w.Body.String(), `"Sum":60.0`)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, w.Header().Get("x-amzn-RequestId"))

	w = post(t, h, "GraniteServiceVersion20100801.GetMetricStatistics", "application/x-amz-json-1.0", `{"MetricName":"x"}`)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "MissingParameter;Sender", w.Header().Get("X-Amzn-Query-Error"))
	var e struct{ Type, Message string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &struct {
		Type    *string `json:"__type"`
		Message *string `json:"message"`
	}{&e.Type, &e.Message}))
	assert.Equal(t, "MissingRequiredParameterException", e.Type)
	assert.Equal(t, "The parameter Namespace is required.", e.Message)

	w = post(t, h, "GraniteServiceVersion20100801.PutMetricData", "application/x-amz-json-1.0", `{}`)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "InvalidAction;Sender", w.Header().Get("X-Amzn-Query-Error"))

	w = post(t, h, "GraniteServiceVersion20100801.ListMetrics", "application/x-amz-json-1.0", `{"Namespace":`)
	assert.Equal(t, "InvalidParameterValue;Sender", w.Header().Get("X-Amzn-Query-Error"), "a broken document")
}

// TestQueryProtocol: the older SDKs' protocol, a form answered in XML.
func TestQueryProtocol(t *testing.T) {
	h := handlerWithTraffic(t)
	form := url.Values{
		"Action": {"GetMetricStatistics"}, "Version": {"2010-08-01"},
		"Namespace": {"AWS/Kinesis"}, "MetricName": {"PutRecord.Bytes"},
		"Dimensions.member.1.Name": {"StreamName"}, "Dimensions.member.1.Value": {"orders"},
		"StartTime": {t0.Format(time.RFC3339)}, "EndTime": {t0.Add(time.Hour).Format(time.RFC3339)},
		"Period": {"60"}, "Statistics.member.1": {"Maximum"},
	}
	w := post(t, h, "", "application/x-www-form-urlencoded; charset=utf-8", form.Encode())
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var answer struct {
		XMLName    xml.Name
		Datapoints []struct {
			Timestamp string
			Maximum   *float64
			Sum       *float64
			Unit      string
		} `xml:"GetMetricStatisticsResult>Datapoints>member"`
		Label     string `xml:"GetMetricStatisticsResult>Label"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	require.NoError(t, xml.Unmarshal(w.Body.Bytes(), &answer), w.Body.String())
	assert.Equal(t, xml.Name{Space: "http://monitoring.amazonaws.com/doc/2010-08-01/", Local: "GetMetricStatisticsResponse"}, answer.XMLName)
	assert.Equal(t, "PutRecord.Bytes", answer.Label)
	require.Len(t, answer.Datapoints, 2)
	assert.Equal(t, "2026-01-02T03:04:00.000Z", answer.Datapoints[0].Timestamp)
	assert.Equal(t, 30.0, *answer.Datapoints[0].Maximum)
	assert.Nil(t, answer.Datapoints[0].Sum)
	assert.Equal(t, "Bytes", answer.Datapoints[1].Unit)
	assert.Equal(t, w.Header().Get("x-amzn-RequestId"), answer.RequestID)

	list := post(t, h, "", "application/x-www-form-urlencoded", url.Values{"Action": {"ListMetrics"}, "Version": {"2010-08-01"},
		"MetricName": {"IncomingRecords"}, "Dimensions.member.1.Name": {"StreamName"}}.Encode())
	require.Equal(t, http.StatusOK, list.Code, list.Body.String())
	assert.Contains(t, list.Body.String(), "<Metrics><member><Namespace>AWS/Kinesis</Namespace><MetricName>IncomingRecords</MetricName><Dimensions><member><Name>StreamName</Name><Value>orders</Value></member></Dimensions></member></Metrics>")

	form.Set("Period", "61")
	w = post(t, h, "", "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusBadRequest, w.Code)
	var e struct {
		Type    string `xml:"Error>Type"`
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	require.NoError(t, xml.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	assert.Equal(t, "Sender", e.Type)
	assert.Equal(t, "InvalidParameterValue", e.Code)
	assert.Contains(t, e.Message, "Period")

	w = post(t, h, "", "application/x-www-form-urlencoded", "Action=DescribeAlarms&Version=2010-08-01")
	require.NoError(t, xml.Unmarshal(w.Body.Bytes(), &e))
	assert.Equal(t, "InvalidAction", e.Code)
}

// TestRequestsOutOfBounds: a request without a signature, with a body
// over 1 MiB, or by another method, is refused before it is read further.
func TestRequestsOutOfBounds(t *testing.T) {
	h := handlerWithTraffic(t)
	r := httptest.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(`{}`))
	r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "MissingAuthenticationToken;Sender", w.Header().Get("X-Amzn-Query-Error"))

	w = post(t, h, "GraniteServiceVersion20100801.ListMetrics", "application/x-amz-json-1.0", `{"Namespace":"`+strings.Repeat("a", 2<<20)+`"}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)

	r = httptest.NewRequest(http.MethodGet, "http://localhost/?Action=ListMetrics&Version=2010-08-01", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)

	r = httptest.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(`{}`))
	r.Host = "attacker.example"
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusForbidden, w.Code, "a loopback server answers loopback names only")
}

// TestHandles: CloudWatch's requests are told from Kinesis's by their
// protocols' marks.
func TestHandles(t *testing.T) {
	for want, r := range map[bool]*http.Request{
		true:  httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/ListMetrics", nil),
		false: httptest.NewRequest(http.MethodPost, "/", nil),
	} {
		assert.Equal(t, want, cloudwatchapi.Handles(r), r.URL.Path)
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	assert.False(t, cloudwatchapi.Handles(r))
	r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")
	assert.True(t, cloudwatchapi.Handles(r))
	r = httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	assert.True(t, cloudwatchapi.Handles(r))
}
