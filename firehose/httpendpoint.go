package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shardlog/shardlog"
)

// HTTPEndpoint is a Destination that delivers records to an HTTP endpoint
// as Firehose's HTTP endpoint delivery does: POST requests of up to 10 000
// records and 64 MiB, each body {"requestId", "timestamp", "records":
// [{"data": base64}]}, with the X-Amz-Firehose-* headers. A 200 answer
// with {"requestId": the same, "timestamp"} in JSON is success; anything
// else is retried (see Config.RetryDuration), except 413, which is not.
// Firehose accepts only https on port 443; shardlog takes any URL, so that
// a test can serve one on loopback.
type HTTPEndpoint struct {
	URL string
	// AccessKey is sent as X-Amz-Firehose-Access-Key.
	AccessKey string
	// CommonAttributes are sent in X-Amz-Firehose-Common-Attributes (up to
	// 50).
	CommonAttributes map[string]string
	// ContentEncoding is NONE (the default) or GZIP.
	ContentEncoding string
	// SourceARN is sent as X-Amz-Firehose-Source-Arn: the delivery
	// stream's ARN.
	SourceARN string
	// Client sends the requests. Default: one that waits 3 minutes for an
	// answer, as Firehose does, and follows no redirects.
	Client *http.Client
	// Clock dates the requests' timestamps. Default: the wall clock.
	Clock shardlog.Clock
}

// The endpoint's limits and Firehose's error codes for it.
const (
	httpMaxRecords       = 10_000
	httpMaxBody          = 64 << 20
	httpMaxResponse      = 1 << 20
	HTTPEndpointFailed   = "http-endpoint-failed" // the error output type
	codeDestination      = "HttpEndpoint.DestinationException"
	codeInvalidResponse  = "HttpEndpoint.InvalidResponseFromDestination"
	codeConnectionFailed = "HttpEndpoint.ConnectionFailed"
	codeRequestTimeout   = "HttpEndpoint.RequestTimeout"
	codeTooLarge         = "HttpEndpoint.ResponseTooLarge"
)

// DeliveryError is a delivery's failure, in Firehose's words: its error
// code (HttpEndpoint.DestinationException, …) and message. Permanent
// failures (an endpoint's 413) are not retried.
type DeliveryError struct {
	Code, Message string
	Permanent     bool
}

func (e *DeliveryError) Error() string { return e.Code + ": " + e.Message }

var defaultHTTPClient = &http.Client{
	Timeout:       3 * time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Put delivers body as one record (it makes HTTPEndpoint a Destination,
// for an error output).
func (h *HTTPEndpoint) Put(ctx context.Context, _ string, body []byte) error {
	return h.PutRecords(ctx, [][]byte{body})
}

// PutRecords delivers records, in as many requests as the limits need.
func (h *HTTPEndpoint) PutRecords(ctx context.Context, records [][]byte) error {
	for len(records) > 0 {
		n, size := 0, 0
		for n < len(records) && n < httpMaxRecords && (n == 0 || size+b64Len(len(records[n]))+12 <= httpMaxBody) {
			size += b64Len(len(records[n])) + 12
			n++
		}
		if err := h.post(ctx, records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

func b64Len(n int) int { return (n + 2) / 3 * 4 }

type httpRecord struct {
	Data []byte `json:"data"` // base64, as encoding/json writes []byte
}

type httpRequest struct {
	RequestID string       `json:"requestId"`
	Timestamp int64        `json:"timestamp"`
	Records   []httpRecord `json:"records"`
}

type httpResponse struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage"`
}

func (h *HTTPEndpoint) post(ctx context.Context, records [][]byte) error {
	clk := h.Clock
	if clk == nil {
		clk = shardlog.SystemClock()
	}
	req := httpRequest{RequestID: requestID(records), Timestamp: clk.Now().UnixMilli(), Records: make([]httpRecord, len(records))}
	for i, r := range records {
		req.Records[i] = httpRecord{Data: r}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	gz := h.ContentEncoding == "GZIP"
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write(body)
		_ = w.Close()
		body = b.Bytes()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Code: codeConnectionFailed, Message: err.Error(), Permanent: true}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	hr.Header.Set("X-Amz-Firehose-Request-Id", req.RequestID)
	if h.SourceARN != "" {
		hr.Header.Set("X-Amz-Firehose-Source-Arn", h.SourceARN)
	}
	if h.AccessKey != "" {
		hr.Header.Set("X-Amz-Firehose-Access-Key", h.AccessKey)
	}
	if len(h.CommonAttributes) > 0 {
		attrs, _ := json.Marshal(map[string]map[string]string{"commonAttributes": h.CommonAttributes})
		hr.Header.Set("X-Amz-Firehose-Common-Attributes", string(attrs))
	}
	if gz {
		hr.Header.Set("Content-Encoding", "gzip")
	}
	client := h.Client
	if client == nil {
		client = defaultHTTPClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &DeliveryError{Code: codeRequestTimeout, Message: err.Error()}
		}
		return &DeliveryError{Code: codeConnectionFailed, Message: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, httpMaxResponse+1))
	switch {
	case err != nil:
		return &DeliveryError{Code: codeConnectionFailed, Message: err.Error()}
	case len(raw) > httpMaxResponse:
		return &DeliveryError{Code: codeTooLarge, Message: "The response is larger than 1 MiB."}
	}
	var out httpResponse
	valid := validResponse(resp, raw, &out)
	switch {
	case resp.StatusCode == http.StatusOK && valid && out.RequestID == req.RequestID:
		return nil
	case resp.StatusCode == http.StatusOK:
		return &DeliveryError{Code: codeInvalidResponse, Message: "The response to request " + req.RequestID + " is not Firehose's JSON with its requestId."}
	}
	msg := "The endpoint answered " + strconv.Itoa(resp.StatusCode) + "."
	if valid && out.ErrorMessage != "" {
		msg = out.ErrorMessage
	}
	return &DeliveryError{Code: codeDestination, Message: msg, Permanent: resp.StatusCode == http.StatusRequestEntityTooLarge}
}

// validResponse reports whether resp is a response Firehose accepts:
// application/json, not encoded, with a length and a JSON body.
func validResponse(resp *http.Response, raw []byte, out *httpResponse) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == "application/json" && resp.Header.Get("Content-Encoding") == "" &&
		resp.ContentLength >= 0 && len(raw) > 0 && json.Unmarshal(raw, out) == nil
}

// requestID is the same for the same records, so that a retry carries the
// ID of the first attempt, as Firehose's does (as far as it can).
func requestID(records [][]byte) string {
	h := md5.New()
	for _, r := range records {
		fmt.Fprintf(h, "%d:", len(r))
		h.Write(r)
	}
	u := h.Sum(nil)
	u[6] = u[6]&0x0f | 0x30 // version 3: name-based, MD5
	u[8] = u[8]&0x3f | 0x80
	s := fmt.Sprintf("%x", u)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
