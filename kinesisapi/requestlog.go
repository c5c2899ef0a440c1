package kinesisapi

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// RequestLog describes one request the handler served, for
// WithRequestLog.
type RequestLog struct {
	Operation string // e.g. PutRecords; "" if the request named none the handler knows
	Stream    string // the stream it named, if it named one
	Status    int    // the HTTP status
	Error     string // the exception, e.g. ResourceNotFoundException; "" on success
	Duration  time.Duration
	Remote    string // the client's address
}

// WithRequestLog calls f once each request has been served (for a
// SubscribeToShard stream, once the stream has ended), from the request's
// goroutine: f must be quick and safe for concurrent use.
func WithRequestLog(f func(RequestLog)) Option { return func(h *handler) { h.requestLog = f } }

// WithDrain makes the handler drain once ctx is done: open
// SubscribeToShard streams end cleanly, as when their five minutes are up,
// so that a server's Shutdown need not wait for them and clients subscribe
// again elsewhere; other requests are served as usual.
func WithDrain(ctx context.Context) Option { return func(h *handler) { h.drain = ctx } }

// requestInfo collects what a request's log says, as the request goes.
type requestInfo struct {
	operation, stream string
}

type requestInfoKey struct{}

// noteStream records the stream a request names, for its log.
func noteStream(ctx context.Context, in any) {
	info, ok := ctx.Value(requestInfoKey{}).(*requestInfo)
	if !ok {
		return
	}
	if n, ok := in.(interface{ logStream() string }); ok {
		info.stream = n.logStream()
	}
}

// streamOfARN is the stream name in a stream or consumer ARN.
func streamOfARN(arn string) string {
	_, rest, _ := strings.Cut(arn, ":stream/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func (r streamRef) logStream() string {
	if r.StreamName != "" {
		return r.StreamName
	}
	return streamOfARN(r.StreamARN)
}

func (r *consumerRef) logStream() string {
	if r.StreamARN != "" {
		return streamOfARN(r.StreamARN)
	}
	return streamOfARN(r.ConsumerARN)
}

func (in *createStreamInput) logStream() string           { return in.StreamName }
func (in *getRecordsInput) logStream() string             { return streamOfARN(in.StreamARN) }
func (in *listStreamConsumersInput) logStream() string    { return streamOfARN(in.StreamARN) }
func (in *registerStreamConsumerInput) logStream() string { return streamOfARN(in.StreamARN) }
func (in *updateStreamModeInput) logStream() string       { return streamOfARN(in.StreamARN) }
func (in *subscribeToShardInput) logStream() string       { return streamOfARN(in.ConsumerARN) }
func (in *resourcePolicyInput) logStream() string         { return streamOfARN(in.ResourceARN) }

// loggedWriter remembers the status and exception of a response.
type loggedWriter struct {
	http.ResponseWriter
	status int
}

func (l *loggedWriter) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *loggedWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	return l.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (l *loggedWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// logged wraps a request for its log, when the handler keeps one; done
// reports it.
func (h *handler) logged(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, func()) {
	if h.requestLog == nil {
		return w, r, func() {}
	}
	start := time.Now()
	info := &requestInfo{}
	lw := &loggedWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	return lw, r, func() {
		status := lw.status
		if status == 0 {
			status = http.StatusOK
		}
		h.requestLog(RequestLog{Operation: info.operation, Stream: info.stream, Status: status,
			Error: lw.Header().Get("X-Amzn-ErrorType"), Duration: time.Since(start), Remote: r.RemoteAddr})
	}
}

// noteOperation records the operation a request calls, for its log.
func noteOperation(ctx context.Context, name string) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.operation = name
	}
}
