package kinesisapi_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/kinesisapi"
)

const jsonType = "application/x-amz-json-1.1"

var uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

// TestFrontEndAnswersAsAWS: requests that name no operation, or come in a
// form AWS does not serve, get the answers responses recorded against AWS
// show, and every answer carries a request ID and an x-amz-id-2.
func TestFrontEndAnswersAsAWS(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	accessDenied := "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"
	for _, tc := range []struct {
		name, method, target, contentType, body string
		status                                  int
		wantType, wantBody                      string
	}{
		{"GET", "GET", "", "", "", 403, "", accessDenied},
		{"PUT", "PUT", "Kinesis_20131202.ListStreams", jsonType, "{}", 403, "", accessDenied},
		{"no body", "POST", "Kinesis_20131202.ListStreams", jsonType, "", 400, jsonType, `{"__type":"SerializationException"}`},
		{"no body, no target", "POST", "", jsonType, "", 400, jsonType, `{"__type":"UnknownOperationException"}`},
		{"no body, unknown operation", "POST", "Kinesis_20131202.Whatever", jsonType, "", 400, jsonType, `{"__type":"UnknownOperationException"}`},
		{"no content type, no target", "POST", "", "", "{}", 403, "", accessDenied},
		{"other content type", "POST", "Kinesis_20131202.ListStreams", "application/x-amz-json-1.0", "{}", 404, "", "<UnknownOperationException/>\n"},
		{"application/json", "POST", "Kinesis_20131202.ListStreams", "application/json", "{}", 404, "application/json",
			`{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}`},
		{"application/json, not JSON", "POST", "Kinesis_20131202.ListStreams", "application/json", "{", 400, "application/json",
			`{"Output":{"__type":"com.amazon.coral.service#SerializationException"},"Version":"1.0"}`},
		{"random target", "POST", "Whatever", jsonType, "{}", 400, jsonType, `{"__type":"UnknownOperationException"}`},
		{"other service", "POST", "DynamoDB_20120810.ListStreams", jsonType, "{}", 400, jsonType, `{"__type":"UnknownOperationException"}`},
		{"no output", "POST", "Kinesis_20131202.CreateStream", jsonType, `{"StreamName":"t","ShardCount":1}`, 200, jsonType, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, tc.wantType, rec.Header().Get("Content-Type"))
			got := rec.Body.String()
			if tc.wantType != "" { // JSON, with or without a final newline
				got = strings.TrimSuffix(got, "\n")
			}
			require.Equal(t, tc.wantBody, got)
			require.Regexp(t, uuidPattern, rec.Header().Get("x-amzn-RequestId"))
			id2, err := base64.StdEncoding.DecodeString(rec.Header().Get("x-amz-id-2"))
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(id2), 64)
		})
	}
}

// TestRequestIDsAreUnique: every response gets its own request ID.
func TestRequestIDsAreUnique(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := call(h, "ListStreams", "{}").Header().Get("x-amzn-RequestId")
		require.False(t, seen[id], id)
		seen[id] = true
	}
}

// TestCORS: a browser page (the JavaScript SDK) gets its preflight
// answered and may read the responses' headers, as from Kinesis.
func TestCORS(t *testing.T) {
	acct := newAccount(t)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests()))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodOptions, srv.URL, nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,authorization,x-amz-date")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, body)
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "POST", resp.Header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "content-type,x-amz-target,authorization,x-amz-date", resp.Header.Get("Access-Control-Allow-Headers"))
	require.Equal(t, "172800", resp.Header.Get("Access-Control-Max-Age"))
	require.Regexp(t, uuidPattern, resp.Header.Get("x-amzn-RequestId"))
	require.Empty(t, resp.Header.Get("x-amz-id-2"), "AWS sends none on a preflight")

	req = httptestRequest(srv.URL, "Kinesis_20131202.ListStreams", jsonType, "{}")
	req.Header.Set("Origin", "http://localhost:3000")
	resp, err = srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date",
		resp.Header.Get("Access-Control-Expose-Headers"))

	// Without an Origin, no CORS headers.
	resp, err = srv.Client().Do(httptestRequest(srv.URL, "Kinesis_20131202.ListStreams", jsonType, "{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}
