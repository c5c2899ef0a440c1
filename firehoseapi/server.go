package firehoseapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/internal/apimodel"
	"github.com/shardlog/shardlog/internal/hostcheck"
	"github.com/shardlog/shardlog/internal/sigv4"
)

const (
	// targetPrefix names Firehose's operations in X-Amz-Target.
	targetPrefix = "Firehose_20150804."
	// maxBody bounds a request: room for a PutRecordBatch somewhat over
	// its 4 MiB as base64, so that it is refused in Firehose's words.
	maxBody = 8 << 20
	// bodyTimeout bounds the time a client may take to send its body.
	bodyTimeout = 30 * time.Second
	// queueTimeout bounds the time a request waits for its turn.
	queueTimeout = 10 * time.Second
)

// Config configures a Server.
type Config struct {
	// Kinesis is the account whose streams KinesisStreamAsSource delivery
	// streams read; its region, account ID, clock and access control are
	// the API's. Required.
	Kinesis *shardlog.Account
	// Buckets is the folder S3 destinations write to: one folder a bucket,
	// named by the BucketARN (arn:aws:s3:::<bucket>). Required.
	Buckets string
	// Bucket, if set, makes the destination of the S3 bucket name, in
	// place of a folder under Buckets: an embedding program gives real S3
	// or an S3-compatible store here (module aws's S3Destination).
	Bucket func(name string) (firehose.Destination, error)
	// Redshift, if set, makes the destination of a Redshift destination
	// (module postgres's Clusters loads a PostgreSQL database as Firehose
	// loads Redshift); without it Redshift destinations are refused.
	Redshift func(RedshiftConfig) (firehose.Destination, error)
	// Dir keeps the delivery streams' definitions and the records
	// direct-put ones took and have not delivered yet, so that they
	// outlive the process. "" keeps them in memory.
	Dir string
	// AccountOptions are more options for the account under Dir, such as
	// shardlog.WithSync.
	AccountOptions []shardlog.Option
	// MaxBufferedBytes bounds the records direct-put delivery streams
	// keep, all together: past it the oldest go first, which are the
	// delivered ones unless a destination failed long enough for its
	// undelivered records to fill the bound; those are then lost (counted
	// in firehose.Totals.Lost and logged), as Firehose drops what it could
	// not deliver in 24 hours. Default 1 GiB; negative: no bound but the
	// records' 24-hour retention.
	MaxBufferedBytes int64
	// MaxConcurrentRequests bounds the requests read and served at once,
	// each holding up to 8 MiB of body: 32 by default (256 MiB). Others
	// wait for their turn up to 10 s, then get ServiceUnavailableException,
	// which SDKs retry.
	MaxConcurrentRequests int
	// MaxDeliveryStreams bounds the delivery streams: Firehose's quota,
	// 50 by default.
	MaxDeliveryStreams int
	// PlainHTTPEndpoints lets HttpEndpoint destinations use http:// URLs,
	// which Firehose refuses (its model asks for https://): for endpoints
	// on loopback in tests.
	PlainHTTPEndpoints bool
	// HTTPClient sends HttpEndpoint deliveries and Lambda invocations.
	// Default: firehose's.
	HTTPClient *http.Client
	// Lambdas are the invocation URLs of the Lambda functions processors
	// name, by function ARN (unqualified, or with its version or alias):
	// a Lambda runtime serving Lambda's invoke API, such as the Runtime
	// Interface Emulator's http://host:9000/2015-03-31/functions/function/invocations
	// (see firehose.Lambda). A processor naming another function is
	// refused.
	Lambdas map[string]string
	// UnsignedRequests serves requests that carry no signature at all
	// (see cloudwatchapi.WithUnsignedRequests).
	UnsignedRequests bool
	// AllowedHosts are host names that requests arriving on a loopback
	// address may carry, besides loopback ones, against DNS rebinding.
	AllowedHosts []string
	Logger       *slog.Logger
}

// RedshiftConfig is a Redshift destination as Config.Redshift gets it:
// the cluster and its credentials, the COPY command's parts, and the
// destination its objects are staged in (the S3 configuration's bucket).
type RedshiftConfig struct {
	ClusterJDBCURL, Username, Password           string
	DataTableName, DataTableColumns, CopyOptions string
	Staging                                      firehose.Destination
}

// Server serves Firehose's API and runs the delivery streams made with it.
// It is an http.Handler, safe for concurrent use; Close stops it.
type Server struct {
	cfg      Config
	kinesis  *shardlog.Account
	store    *shardlog.Account // the direct-put delivery streams' records
	verifier *sigv4.Verifier
	shapes   map[string]*apimodel.Shape // the operations' input shapes
	slots    chan struct{}              // a place per request being served
	hosts    hostcheck.Names
	log      *slog.Logger

	mu      sync.Mutex
	streams map[string]*deliveryStream
	closed  bool
}

// Handles reports whether r is a Firehose request, by its X-Amz-Target: a
// server serving Kinesis and Firehose on one port routes with it.
func Handles(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
}

// New opens the delivery streams kept under cfg.Dir, starts them, and
// returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Kinesis == nil || cfg.Buckets == "" {
		return nil, errors.New("firehoseapi: Config.Kinesis and Config.Buckets are required")
	}
	if cfg.MaxBufferedBytes == 0 {
		cfg.MaxBufferedBytes = 1 << 30
	}
	if cfg.MaxConcurrentRequests <= 0 {
		cfg.MaxConcurrentRequests = 32
	}
	if cfg.MaxDeliveryStreams == 0 {
		cfg.MaxDeliveryStreams = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	k := cfg.Kinesis
	opts := []shardlog.Option{shardlog.WithoutLimits(), shardlog.WithClock(k.Clock()),
		shardlog.WithRegion(k.Region()), shardlog.WithAccountID(k.AccountID()), shardlog.WithLogger(cfg.Logger)}
	if cfg.MaxBufferedBytes > 0 {
		opts = append(opts, shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: cfg.MaxBufferedBytes}))
	}
	if cfg.Dir != "" {
		opts = append(opts, shardlog.WithDir(filepath.Join(cfg.Dir, "records")))
	}
	store, err := shardlog.NewAccount(append(opts, cfg.AccountOptions...)...)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, kinesis: k, store: store, verifier: sigv4.NewVerifier("firehose"), shapes: shapes(cfg.PlainHTTPEndpoints),
		slots: make(chan struct{}, cfg.MaxConcurrentRequests),
		log:   cfg.Logger, streams: map[string]*deliveryStream{}}
	s.hosts.Add(cfg.AllowedHosts...)
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the delivery streams — each delivers what it buffered once
// more — and closes the direct-put records' account. Requests after Close
// fail.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	streams := s.streams
	s.streams = map[string]*deliveryStream{}
	s.mu.Unlock()
	for _, d := range streams {
		d.stop()
	}
	return s.store.Close()
}

// DeliveryStreams returns the delivery streams running now, for their
// metrics (see prom.NewDeliveryCollectorFunc).
func (s *Server) DeliveryStreams() []*firehose.DeliveryStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*firehose.DeliveryStream, 0, len(s.streams))
	for _, d := range s.streams {
		if ds := d.running(); ds != nil {
			out = append(out, ds)
		}
	}
	slices.SortFunc(out, func(a, b *firehose.DeliveryStream) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// apiError is an error answer: its HTTP status, AWS's exception name and
// message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidArgument(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidArgumentException", message: msg}
}

func (s *Server) notFound(name string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ResourceNotFoundException",
		message: "Firehose " + name + " under account " + s.kinesis.AccountID() + " not found."}
}

// errorOf turns an error from shardlog or firehose into an answer.
func errorOf(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *shardlog.Error
	if errors.As(err, &se) {
		switch se.Code {
		case "ServiceUnavailableException":
			return &apiError{status: http.StatusServiceUnavailable, code: se.Code, message: se.Message}
		case "AccessDeniedException", "ValidationException", "InvalidArgumentException", "ResourceNotFoundException",
			"ResourceInUseException", "LimitExceededException":
			return &apiError{status: http.StatusBadRequest, code: se.Code, message: se.Message}
		}
	}
	return &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", message: err.Error()}
}

// operation runs one Firehose operation on a request body.
type operation func(s *Server, ctx context.Context, op string, body []byte) (any, error)

var operations = map[string]operation{
	"CreateDeliveryStream":          frame((*Server).create),
	"DescribeDeliveryStream":        frame((*Server).describe),
	"ListDeliveryStreams":           frame((*Server).list),
	"DeleteDeliveryStream":          frame((*Server).delete),
	"UpdateDestination":             frame((*Server).update),
	"PutRecord":                     frame((*Server).putRecord),
	"PutRecordBatch":                frame((*Server).putRecordBatch),
	"TagDeliveryStream":             frame((*Server).tag),
	"UntagDeliveryStream":           frame((*Server).untag),
	"ListTagsForDeliveryStream":     frame((*Server).listTags),
	"StartDeliveryStreamEncryption": frame((*Server).startEncryption),
	"StopDeliveryStreamEncryption":  frame((*Server).stopEncryption),
}

// frame is what every operation goes through: its body is checked against
// the model's input shape and decoded into an In, whose caller is then
// authorized for firehose:<op> on the delivery stream it names (on "*"
// for ListDeliveryStreams); then run runs.
func frame[In any, P interface {
	*In
	target() string
}](run func(*Server, context.Context, P) (any, error)) operation {
	return func(s *Server, ctx context.Context, op string, body []byte) (any, error) {
		fits, err := apimodel.Judge(body, s.shapes[op], javaPackage)
		if err != nil {
			return nil, modelError(err)
		}
		in := P(new(In))
		if !fits {
			// A body of the wrong shape: a small one is decoded for the
			// decoder's words, a large one not, since decoding it could
			// cost far more than the body.
			if len(body) <= maxDecoded {
				if err := decode(body, in); err != nil {
					return nil, err
				}
			}
			return nil, &apiError{status: http.StatusBadRequest, code: "SerializationException",
				message: "The request body is not JSON of " + op + "'s input shape."}
		}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		resource := "*"
		if name := in.target(); name != "" {
			resource = s.arn(name)
		}
		if _, err := s.kinesis.Authorize(ctx, "firehose:"+op, resource); err != nil {
			return nil, err
		}
		return run(s, ctx, in)
	}
}

// maxDecoded bounds the bodies decoded without the model's blessing.
const maxDecoded = 64 << 10

// javaPackage names Firehose's structures in validation messages, as its
// Java service's classes.
const javaPackage = "com.amazonaws.firehose.v20150804"

// modelError is an apimodel error as Firehose answers it.
func modelError(err error) error {
	var ve *apimodel.ValidationError
	var se *apimodel.SerializationError
	switch {
	case errors.As(err, &ve):
		return &apiError{status: http.StatusBadRequest, code: "ValidationException", message: ve.Message}
	case errors.As(err, &se):
		return &apiError{status: http.StatusBadRequest, code: "SerializationException", message: se.Message}
	}
	return err
}

// shapes are the input shapes requests are checked against: the model's,
// or with plainHTTP, the same but for http:// endpoint URLs allowed.
func shapes(plainHTTP bool) map[string]*apimodel.Shape {
	if !plainHTTP {
		return inputShapes
	}
	return apimodel.Rewrite(inputShapes, func(s *apimodel.Shape) {
		if s.Name == "HttpEndpointUrl" {
			s.Pattern = "https?://.*"
		}
	})
}

func init() { apimodel.Compile(inputShapes) }

// ServeHTTP serves one Firehose request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	if !s.hosts.Allow(r) {
		fail(w, &apiError{status: http.StatusForbidden, code: "AccessDeniedException",
			message: "Host " + strconv.Quote(r.Host) + " is not a loopback name; allow it with -allow-host."})
		return
	}
	if r.Method != http.MethodPost {
		fail(w, &apiError{status: http.StatusMethodNotAllowed, code: "UnknownOperationException",
			message: "Firehose's operations are called with POST."})
		return
	}
	// A request holds up to maxBody of memory, and its decoding as much
	// again: at most MaxConcurrentRequests are read at once, the others
	// wait their turn for a while, then are told to slow down.
	wait := time.NewTimer(queueTimeout)
	select {
	case s.slots <- struct{}{}:
		wait.Stop()
		defer func() { <-s.slots }()
	case <-wait.C:
		fail(w, &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", message: "Slow down."})
		return
	case <-r.Context().Done():
		wait.Stop()
		fail(w, &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", message: "Slow down."})
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(w, &apiError{status: http.StatusRequestEntityTooLarge, code: "SerializationException",
				message: "Request size exceeds " + strconv.Itoa(maxBody) + " bytes."})
			return
		}
		fail(w, &apiError{status: http.StatusBadRequest, code: "SerializationException", message: "The request body could not be read."})
		return
	}
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	op, known := operations[name]
	if !known || !Handles(r) {
		fail(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException", message: "Operation " + name + " is not supported."})
		return
	}
	ctx := r.Context()
	if s.kinesis.AccessControl() {
		caller, serr := s.verifier.Verify(s.kinesis, r, body)
		if serr != nil {
			fail(w, &apiError{status: http.StatusBadRequest, code: serr.Code, message: serr.Message})
			return
		}
		ctx = shardlog.WithCaller(ctx, caller)
	} else if serr := sigv4.Shaped(r); serr != nil && !(serr.Missing() && s.cfg.UnsignedRequests) {
		fail(w, &apiError{status: http.StatusBadRequest, code: serr.Code, message: serr.Message})
		return
	}
	out, err := op(s, ctx, name, body)
	if err != nil {
		fail(w, errorOf(err))
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail(w, errorOf(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func fail(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.code, e.message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// decode reads a request body into in, as AWS's deserializer does: an
// empty body is an empty object; what is not JSON of the shape's types is
// a SerializationException.
func decode(body []byte, in any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(in); err != nil {
		msg := "The request body is not valid JSON."
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			msg = "Unexpected value at '" + ute.Field + "': a " + ute.Value + " where the model has another type."
		}
		return &apiError{status: http.StatusBadRequest, code: "SerializationException", message: msg}
	}
	if dec.More() {
		return &apiError{status: http.StatusBadRequest, code: "SerializationException", message: "Unexpected data after the request object."}
	}
	return nil
}

// arn is a delivery stream's ARN.
func (s *Server) arn(name string) string {
	return "arn:aws:firehose:" + s.kinesis.Region() + ":" + s.kinesis.AccountID() + ":deliverystream/" + name
}

// requestID returns a fresh UUID for x-amzn-RequestId.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
