// Package kinesisapi serves the Kinesis Data Streams wire protocol (AWS JSON
// 1.1, and event streams for SubscribeToShard) over a [shardlog.Account],
// so that unmodified AWS SDKs and the AWS CLI can use it:
//
//	acct, _ := shardlog.NewAccount()
//	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
//	client := kinesis.New(kinesis.Options{BaseEndpoint: aws.String(srv.URL), ...})
//
// The handler only maps the protocol: each operation decodes its input,
// checks it against the Kinesis API model's constraints, calls the one core
// method that implements it, and encodes the result. The constraints
// (required, length, range, pattern, enum) come from the model itself
// (model_gen.go, written by internal/tools/modelgen from the aws-sdk-go module's
// api-2.json); a request that breaks them gets AWS's ValidationException,
// listing every violation (up to ten) in AWS's order and words, before any
// other check. Serialization errors (a value of the wrong type, base64 that
// AWS would refuse) come first, as SerializationException.
// Signatures are checked only with access control on
// (shardlog.WithAccessControl): then every request must be signed (SigV4)
// by one of the account's access keys, whose principal's policies decide
// the call. Otherwise any credentials work, but a request must carry them
// in SigV4's shape, as on AWS (see WithUnsignedRequests). CBOR
// (application/x-amz-cbor-1.1), the Java SDK's and the Java KCL's default,
// is served too: requests are transcoded to JSON by the operation's input
// shape (byte strings to blobs, timestamps from milliseconds) and answers
// to CBOR by its output shape, SubscribeToShard's events included.
//
// Around the operations the handler answers as Kinesis's front end does:
// every response carries an x-amzn-RequestId (a UUID) and an x-amz-id-2;
// requests from browser pages (with an Origin) get CORS headers and their
// preflight answered; operations without output answer with an empty body;
// and a request without a body, with another method or content type, or
// naming no operation, gets AWS's answer for it.
//
// The handler serves HTTP/1.1 (SubscribeToShard as a chunked, flushed event
// stream) and HTTP/2 alike; which protocols are offered is the server's
// choice. The JavaScript SDK v3 speaks only HTTP/2, with prior knowledge on
// http:// endpoints: serve it from an http.Server whose Protocols include
// UnencryptedHTTP2, or HTTP2 over TLS, as shardlogd does.
//
// # Hostile clients
//
// What one request can cost is bounded: its body's size, the memory all
// requests hold at once (taken as bodies arrive, with a share for each
// client address and connection, so that a slow client starves only
// itself), the time to send a body, and its pace, and to take a response
// or an event, and the size of every list and map it carries, checked
// before anything is decoded. Records go from storage to the connection without
// being copied into a response. Requests that arrive on a loopback address
// must name a loopback host, which defeats DNS rebinding. See the options
// below for the defaults; connections themselves are the http.Server's to
// bound.
//
// Not supported, answered with UnknownOperationException: TagResource,
// UntagResource and ListTagsForResource, Describe/UpdateAccountSettings,
// UpdateMaxRecordSize, UpdateStreamWarmThroughput,
// UpdateStreamRecordDistributionStrategy and the Channel operations.
package kinesisapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hostcheck"
	"github.com/shardlog/shardlog/internal/sigv4"
)

// Defaults of the options below. Every resource a client can make the
// handler hold has a bound and a timeout.
const (
	// DefaultMaxRequestBytes caps a request body: a PutRecords of 10 MiB
	// grows by a third in base64.
	DefaultMaxRequestBytes = 16 << 20
	// DefaultMaxRequestMemory caps the memory held at once by requests
	// being read and served, counted as twice their bodies (the body and
	// what it decodes to).
	DefaultMaxRequestMemory = 512 << 20
	// DefaultMaxClientMemory caps the part of it that the requests of one
	// client address hold; one connection holds at most twice the largest
	// body.
	DefaultMaxClientMemory = DefaultMaxRequestMemory / 4
	// DefaultMinUploadRate is the slowest a body may arrive, after
	// DefaultUploadGrace, in bytes a second.
	DefaultMinUploadRate = 8 << 10
	// DefaultUploadGrace is how long a body may arrive at any pace.
	DefaultUploadGrace = 5 * time.Second
	// DefaultBodyTimeout is how long a client may take to send a body.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultWriteTimeout is how long a client may take to receive a
	// response, or one event of a SubscribeToShard stream.
	DefaultWriteTimeout = 30 * time.Second
)

// Option configures a handler.
type Option func(*handler)

// WithMaxRequestBytes caps request bodies; larger ones get HTTP 413 and a
// SerializationException. Default: DefaultMaxRequestBytes.
func WithMaxRequestBytes(n int64) Option { return func(h *handler) { h.maxBody = max(n, 1) } }

// WithMaxRequestMemory caps the memory that requests being read and served
// may hold at once, counted as twice their bodies and taken as the bodies
// arrive, not as they are declared. A request that would go over it waits
// for memory, for at most its body timeout, and then gets HTTP 503 (which
// SDKs retry). Default: DefaultMaxRequestMemory.
func WithMaxRequestMemory(n int64) Option { return func(h *handler) { h.memTotal = max(n, 1) } }

// WithMaxClientMemory caps the part of the request memory that the
// requests of one client address may hold at once (one connection holds
// at most twice the largest body): a client that holds its share waits on
// itself, not others. Default: DefaultMaxClientMemory.
func WithMaxClientMemory(n int64) Option { return func(h *handler) { h.memPerAddr = max(n, 1) } }

// WithMinUploadRate sets the slowest pace, in bytes a second, at which a
// request body may arrive once grace has passed: a slower one gets HTTP
// 408 and its connection is closed, so that a trickle holds neither memory
// nor a connection for the whole body timeout. 0 turns it off. Default:
// DefaultMinUploadRate after DefaultUploadGrace.
func WithMinUploadRate(bytesPerSecond int64, grace time.Duration) Option {
	return func(h *handler) { h.minRate, h.rateGrace = max(bytesPerSecond, 0), grace }
}

// WithBodyTimeout sets how long a client may take to send a request body;
// a slower one gets HTTP 408 and its connection is closed. Default:
// DefaultBodyTimeout.
func WithBodyTimeout(d time.Duration) Option { return func(h *handler) { h.bodyTimeout = d } }

// WithWriteTimeout sets how long a client may take to receive a response
// or one SubscribeToShard event; a client that stops reading loses its
// connection then. Default: DefaultWriteTimeout.
func WithWriteTimeout(d time.Duration) Option { return func(h *handler) { h.writeTimeout = d } }

// WithUnsignedRequests serves requests that carry no signature at all,
// such as curl's. Without it a request needs an Authorization header or a
// presigned query string in the shape of Signature Version 4, as on AWS,
// whose answers a request without one gets (MissingAuthenticationToken-
// Exception, or IncompleteSignatureException for a malformed one), so that
// an SDK configured without credentials fails here as it would there. The
// signature itself is checked only with access control on
// (shardlog.WithAccessControl), which this option does not loosen.
func WithUnsignedRequests() Option { return func(h *handler) { h.unsigned = true } }

// WithAllowedHosts adds host names that requests arriving on a loopback
// address may carry in their Host header, besides localhost, *.localhost
// and loopback IPs. Requests with other names get HTTP 403: that stops web
// pages from reaching a local server by DNS rebinding. Requests arriving on
// other addresses may carry any name.
func WithAllowedHosts(names ...string) Option {
	return func(h *handler) { h.hosts.Add(names...) }
}

// NewHandler returns an http.Handler that serves the Kinesis API for acct.
// It is safe for concurrent use. Closing acct ends open SubscribeToShard
// streams.
//
// The handler bounds what one request can cost (body size, memory, body
// and write timeouts) but not connections: serve it from an http.Server
// with ReadHeaderTimeout, IdleTimeout and a connection limit, as shardlogd
// does.
func NewHandler(acct *shardlog.Account, opts ...Option) http.Handler {
	h := &handler{
		acct:         acct,
		maxBody:      DefaultMaxRequestBytes,
		memTotal:     DefaultMaxRequestMemory,
		memPerAddr:   DefaultMaxClientMemory,
		minRate:      DefaultMinUploadRate,
		rateGrace:    DefaultUploadGrace,
		bodyTimeout:  DefaultBodyTimeout,
		writeTimeout: DefaultWriteTimeout,
		drain:        context.Background(),
		verifier:     sigv4.NewVerifier("kinesis"),
	}
	_, _ = rand.Read(h.idSeed[:])
	h.id2Tail = base64.StdEncoding.EncodeToString(h.idSeed[8:])
	for _, o := range opts {
		o(h)
	}
	perConn := 2 * h.maxBody // the largest request, and no more
	h.memory = newMemory(h.memTotal, perConn, max(h.memPerAddr, perConn))
	return h
}

type handler struct {
	acct         *shardlog.Account
	maxBody      int64
	memory       *memory
	memTotal     int64 // the options of memory...
	memPerAddr   int64
	minRate      int64 // ...and of the pace of bodies
	rateGrace    time.Duration
	bodyTimeout  time.Duration
	writeTimeout time.Duration
	hosts        hostcheck.Names // accepted besides loopback ones
	idSeed       [8 + 54]byte    // request IDs: 8 random bytes and a counter; then x-amz-id-2's random tail
	id2Tail      string          // base64 of idSeed[8:]
	ids          atomic.Uint64
	verifier     *sigv4.Verifier // with access control on
	unsigned     bool            // WithUnsignedRequests
	requestLog   func(RequestLog)
	drain        context.Context // done: SubscribeToShard streams end
}

// operation runs one Kinesis operation on a body of the input shape sh.
type operation func(ctx context.Context, a *shardlog.Account, body []byte, sh *shape) (any, error)

// op adapts a typed operation: it decodes and validates the body into In
// first.
func op[In any](f func(ctx context.Context, a *shardlog.Account, in *In) (any, error)) operation {
	return func(ctx context.Context, a *shardlog.Account, body []byte, sh *shape) (any, error) {
		in := new(In)
		if err := decodeValid(body, in, sh); err != nil {
			return nil, err
		}
		noteStream(ctx, in)
		return f(ctx, a, in)
	}
}

// operations maps each supported operation to its implementation; see the
// file named after it.
var operations = map[string]operation{
	"AddTagsToStream":               op(addTagsToStream),
	"CreateStream":                  op(createStream),
	"DecreaseStreamRetentionPeriod": op(decreaseStreamRetentionPeriod),
	"DeleteResourcePolicy":          op(deleteResourcePolicy),
	"DeleteStream":                  op(deleteStream),
	"DeregisterStreamConsumer":      op(deregisterStreamConsumer),
	"DescribeLimits":                op(describeLimits),
	"DescribeStream":                op(describeStream),
	"DescribeStreamConsumer":        op(describeStreamConsumer),
	"DescribeStreamSummary":         op(describeStreamSummary),
	"DisableEnhancedMonitoring":     op(disableEnhancedMonitoring),
	"EnableEnhancedMonitoring":      op(enableEnhancedMonitoring),
	"GetRecords":                    op(getRecords),
	"GetResourcePolicy":             op(getResourcePolicy),
	"GetShardIterator":              op(getShardIterator),
	"IncreaseStreamRetentionPeriod": op(increaseStreamRetentionPeriod),
	"ListShards":                    op(listShards),
	"ListStreamConsumers":           op(listStreamConsumers),
	"ListStreams":                   op(listStreams),
	"ListTagsForStream":             op(listTagsForStream),
	"MergeShards":                   op(mergeShards),
	"PutRecord":                     op(putRecord),
	"PutRecords":                    putRecords,
	"PutResourcePolicy":             op(putResourcePolicy),
	"RegisterStreamConsumer":        op(registerStreamConsumer),
	"RemoveTagsFromStream":          op(removeTagsFromStream),
	"SplitShard":                    op(splitShard),
	"StartStreamEncryption":         op(startStreamEncryption),
	"StopStreamEncryption":          op(stopStreamEncryption),
	"UpdateShardCount":              op(updateShardCount),
	"UpdateStreamMode":              op(updateStreamMode),
}

// unsupported lists Kinesis operations shardlog knows but does not serve.
var unsupported = []string{
	"TagResource", "UntagResource", "ListTagsForResource",
	"DescribeAccountSettings", "UpdateAccountSettings", "UpdateMaxRecordSize",
	"UpdateStreamWarmThroughput", "UpdateStreamRecordDistributionStrategy",
	"CreateChannel", "DescribeChannel", "ListChannels", "UpdateChannel", "DeleteChannel",
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The body must arrive within the body timeout, even when the request
	// is refused before it is read: the server then drains some of it.
	w, r, logDone := h.logged(w, r)
	defer logDone()
	rc := http.NewResponseController(w)
	timed := h.bodyTimeout > 0 && rc.SetReadDeadline(time.Now().Add(h.bodyTimeout)) == nil
	h.setRequestHeaders(w, r)
	if !h.hosts.Allow(r) {
		writeError(w, http.StatusForbidden, "AccessDeniedException",
			fmt.Sprintf("Host %q is not a loopback name; allow it with WithAllowedHosts (shardlogd: -allow-host).", r.Host))
		return
	}
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
		preflight(w, r)
		return
	}
	if r.Method != http.MethodPost {
		if !h.signatureShapeOK(w, r) {
			return
		}
		writeXMLError(w, http.StatusForbidden, "AccessDeniedException", "Unable to determine service/operation name to be authorized")
		return
	}
	body, release, ok := h.readBody(w, r)
	if !ok {
		return
	}
	defer release()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var cw *cborResponse
	if ct == cborType {
		cw = &cborResponse{ResponseWriter: w, memory: h.memory, who: holderOf(r), wait: max(h.writeTimeout, time.Second)}
		defer func() { cw.finish() }()
		w = cw
	}
	raw := body
	name, f, body, ok := h.route(w, r, ct, body)
	if !ok {
		return
	}
	noteOperation(r.Context(), name)
	if h.acct.AccessControl() {
		caller, serr := h.verifier.Verify(h.acct, r, raw)
		if serr != nil {
			writeError(w, http.StatusBadRequest, serr.Code, serr.Message)
			return
		}
		r = r.WithContext(withOperation(shardlog.WithCaller(r.Context(), caller), name))
	} else if serr := h.shape(r); serr != nil {
		writeError(w, http.StatusBadRequest, serr.Code, serr.Message)
		return
	}
	if timed {
		// No deadline from here on: the server's background read of an
		// idle connection would otherwise end a long SubscribeToShard.
		_ = rc.SetReadDeadline(time.Time{})
	}
	if name == "SubscribeToShard" {
		if cw != nil { // events are CBOR frames, written as they come
			w, cw = cw.ResponseWriter, &cborResponse{}
		}
		h.subscribeToShard(w, r, body, release, cw != nil)
		return
	}
	if cw != nil {
		cw.shape = outputShapes[name]
	}
	out, err := f(r.Context(), h.acct, body, inputShapes[name])
	h.setWriteDeadline(w)
	if err != nil {
		writeCoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
	if r, ok := out.(releaser); ok {
		r.release()
	}
}

// releaser is a response that gives pooled memory back once written.
type releaser interface{ release() }

// setWriteDeadline gives the client writeTimeout from now to take what is
// written next. Writers that cannot time out (a test's recorder) are let be.
func (h *handler) setWriteDeadline(w http.ResponseWriter) {
	if h.writeTimeout > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.writeTimeout))
	}
}

const jsonType = "application/x-amz-json-1.1"

// rawJSON is a response body encoded already.
type rawJSON []byte

func writeJSON(w http.ResponseWriter, status int, v any) {
	if body, ok := v.(streamed); ok {
		writeStreamed(w, status, body)
		return
	}
	if _, ok := v.(empty); ok { // AWS answers operations without output with no body
		w.Header().Set("Content-Type", jsonType)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	if raw, ok := v.(rawJSON); ok {
		w.Header().Set("Content-Type", jsonType)
		w.Header().Set("Content-Length", fmt.Sprint(len(raw)))
		w.WriteHeader(status)
		_, _ = w.Write(raw)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", "Could not encode the response.")
		return
	}
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// wireError is the body of an error response.
type wireError struct {
	Type    string `json:"__type"`
	Message string `json:"message,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, wireError{Type: code, Message: message})
}

// errorStatus maps a core error to its AWS exception name and HTTP status.
func errorStatus(err error) (code, message string, status int) {
	var e *shardlog.Error
	switch {
	case errors.As(err, &e):
		status = http.StatusBadRequest
		if e.Code == shardlog.ErrInternalFailure.Code {
			status = http.StatusInternalServerError
		}
		return e.Code, e.Message, status
	case errors.As(err, new(*serializationError)):
		return "SerializationException", err.Error(), http.StatusBadRequest
	case errors.Is(err, shardlog.ErrClosed):
		return "ServiceUnavailableException", "The shardlog account is closed.", http.StatusServiceUnavailable
	}
	return shardlog.ErrInternalFailure.Code, err.Error(), http.StatusInternalServerError
}

func writeCoreError(w http.ResponseWriter, err error) {
	code, msg, status := errorStatus(err)
	writeError(w, status, code, msg)
}
