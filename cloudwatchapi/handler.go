// Package cloudwatchapi serves the part of Amazon CloudWatch's API that
// reads Kinesis's metrics — GetMetricStatistics, GetMetricData and
// ListMetrics — over a shardlog.Account, so that `aws cloudwatch
// get-metric-statistics --endpoint-url …`, the SDKs and dashboards built on
// them work unmodified against shardlogd.
//
// CloudWatch's three wire protocols are served on one handler, as its
// clients choose them: RPC v2 CBOR (the Go SDK since cloudwatch v1.53.0:
// POST /service/GraniteServiceVersion20100801/operation/<Op>), JSON 1.0
// (the AWS CLI and boto3: X-Amz-Target GraniteServiceVersion20100801.<Op>)
// and the query protocol (older SDKs: a form with Action and Version,
// answered in XML). Errors carry CloudWatch's codes in each protocol's
// way, with X-Amzn-Query-Error for the clients that read it.
//
// The metrics are those of the account (namespace AWS/Kinesis; see
// shardlog.Account.GetMetricStatistics) and of any other Source given
// (WithSource: shardlogd serves AWS/Firehose from its delivery streams): a
// query for any other namespace or metric has no datapoints, as on
// CloudWatch for a metric nobody published.
// Samples are kept in one-minute statistic sets, so periods under a minute
// (1, 5, 10, 20 and 30 seconds, which CloudWatch accepts for high-resolution
// metrics) are answered per minute, and percentiles have a value only for
// periods whose samples are all equal. Metric math and Metrics Insights
// expressions in GetMetricData are refused with InvalidParameterValue.
//
// With access control on (shardlog.WithAccessControl), requests are signed
// with Signature Version 4 for the service "monitoring", and the caller
// needs cloudwatch:GetMetricStatistics, cloudwatch:GetMetricData or
// cloudwatch:ListMetrics.
package cloudwatchapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hostcheck"
	"github.com/shardlog/shardlog/internal/sigv4"
)

const (
	// targetPrefix names CloudWatch's operations in X-Amz-Target (JSON)
	// and in the RPC v2 CBOR path.
	targetPrefix = "GraniteServiceVersion20100801"
	cborPath     = "/service/" + targetPrefix + "/operation/"
	apiVersion   = "2010-08-01"

	// maxBody bounds a request: 500 metric queries fit many times over.
	maxBody = 1 << 20
	// bodyTimeout bounds the time a client may take to send its body.
	bodyTimeout = 30 * time.Second
)

// Handles reports whether r is a CloudWatch request, by the marks of its
// protocol: an RPC v2 CBOR path, a CloudWatch X-Amz-Target, or a form
// (Kinesis's protocols never send one). A server serving Kinesis and
// CloudWatch on one port routes with it.
func Handles(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/service/"+targetPrefix+"/") ||
		strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix+".") {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == formType
}

// Option configures the handler.
type Option func(*handler)

// WithUnsignedRequests serves requests that carry no signature at all.
// Without it, a request must carry a Signature Version 4 signature in
// shape, as on AWS; the signature itself is checked only with access
// control on, which this option does not loosen.
func WithUnsignedRequests() Option { return func(h *handler) { h.unsigned = true } }

// WithAllowedHosts adds host names that requests arriving on a loopback
// address may carry, besides loopback ones, against DNS rebinding (as
// kinesisapi.WithAllowedHosts).
func WithAllowedHosts(names ...string) Option {
	return func(h *handler) { h.hosts.Add(names...) }
}

// NewHandler returns an http.Handler serving CloudWatch's metric reads for
// acct. It is safe for concurrent use.
func NewHandler(acct *shardlog.Account, opts ...Option) http.Handler {
	h := &handler{acct: acct, verifier: sigv4.NewVerifier("monitoring"), sources: sources{shardlog.MetricsNamespace: acct}}
	for _, o := range opts {
		o(h)
	}
	return h
}

type handler struct {
	acct     *shardlog.Account
	verifier *sigv4.Verifier
	unsigned bool
	hosts    hostcheck.Names
	sources  sources // by namespace; the account's AWS/Kinesis among them
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	p, op := protocolOf(r)
	if !h.hosts.Allow(r) {
		p.fail(w, &apiError{status: http.StatusForbidden, code: "AccessDenied", exception: "AccessDeniedException",
			message: "The request's Host header names no host this server answers for."})
		return
	}
	if r.Method != http.MethodPost {
		p.fail(w, &apiError{status: http.StatusMethodNotAllowed, code: "InvalidAction", exception: "UnknownOperationException",
			message: "CloudWatch's operations are called with POST."})
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge", exception: "RequestEntityTooLarge",
				message: "Request size exceeds 1048576 bytes."})
			return
		}
		p.fail(w, invalidValue("The request body could not be read."))
		return
	}
	form := p.form(body)
	if p.kind == query {
		if op == "" {
			op = form.Get("Action")
		}
		if v := form.Get("Version"); v != apiVersion && op != "" {
			p.fail(w, &apiError{status: http.StatusBadRequest, code: "InvalidAction", exception: "UnknownOperationException",
				message: "Could not find operation " + op + " for version " + v + "."})
			return
		}
	}
	run, known := operations[op]
	if !known {
		p.fail(w, &apiError{status: http.StatusBadRequest, code: "InvalidAction", exception: "UnknownOperationException",
			message: "The action " + op + " is not valid for this web service."})
		return
	}
	ctx := r.Context()
	if h.acct.AccessControl() {
		caller, serr := h.verifier.Verify(h.acct, r, body)
		if serr != nil {
			p.fail(w, signatureError(serr))
			return
		}
		ctx = shardlog.WithCaller(ctx, caller)
	} else if serr := sigv4.Shaped(r); serr != nil && !(serr.Missing() && h.unsigned) {
		p.fail(w, signatureError(serr))
		return
	}
	out, err := run(ctx, h.sources, decoder{p: p, body: body, form: form})
	if err != nil {
		p.fail(w, apiErrorOf(err))
		return
	}
	p.answer(w, op, out)
}

// requestID returns a fresh UUID for x-amzn-RequestId.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
