package cloudwatchapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/sigv4"
)

// kind is one of CloudWatch's wire protocols.
type kind int

const (
	query   kind = iota // a form, answered in XML
	jsonRPC             // JSON 1.0, the operation in X-Amz-Target
	cborRPC             // Smithy RPC v2 CBOR, the operation in the path
)

const (
	formType  = "application/x-www-form-urlencoded"
	jsonType  = "application/x-amz-json-1.0"
	cborType  = "application/cbor"
	namespace = "http://monitoring.amazonaws.com/doc/" + apiVersion + "/"
)

// protocol is how one request is read and answered.
type protocol struct{ kind kind }

// protocolOf tells a request's protocol and, for the RPC ones, its
// operation (a query request names it in its form).
func protocolOf(r *http.Request) (protocol, string) {
	if op, ok := strings.CutPrefix(r.URL.Path, cborPath); ok {
		return protocol{cborRPC}, op
	}
	if op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix+"."); ok {
		return protocol{jsonRPC}, op
	}
	return protocol{query}, ""
}

// form parses a query request's body; nil for the other protocols.
func (p protocol) form(body []byte) url.Values {
	if p.kind != query {
		return nil
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}
	}
	return f
}

// cborDecoding bounds what a body can make the decoder build.
var cborDecoding = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: 4096,
		MaxMapPairs:      4096,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// decoder reads one request's input in its protocol.
type decoder struct {
	p    protocol
	body []byte
	form url.Values
}

// input is an operation's input, which the query protocol fills from a
// form.
type input interface{ fromForm(f url.Values) error }

func (d decoder) decode(in input) error {
	switch d.p.kind {
	case query:
		return in.fromForm(d.form)
	case jsonRPC:
		if len(bytes.TrimSpace(d.body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(d.body, in); err != nil {
			return invalidValue("The request body is not a valid JSON document of the operation's input: " + err.Error())
		}
	case cborRPC:
		if len(d.body) == 0 {
			return nil
		}
		if err := cborDecoding.Unmarshal(d.body, in); err != nil {
			return invalidValue("The request body is not a valid CBOR document of the operation's input: " + err.Error())
		}
	}
	return nil
}

// answer writes an operation's output.
func (p protocol) answer(w http.ResponseWriter, op string, out any) {
	var body []byte
	var err error
	switch p.kind {
	case jsonRPC:
		w.Header().Set("Content-Type", jsonType)
		body, err = json.Marshal(out)
	case cborRPC:
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", cborType)
		body, err = cbor.Marshal(out)
	case query:
		w.Header().Set("Content-Type", "text/xml")
		body, err = queryResponse(op, out, w.Header().Get("x-amzn-RequestId"))
	}
	if err != nil {
		p.fail(w, &apiError{status: http.StatusInternalServerError, code: "InternalServiceError", exception: "InternalServiceFault", message: err.Error()})
		return
	}
	_, _ = w.Write(body)
}

// queryResponse wraps out in the query protocol's <OpResponse>.
func queryResponse(op string, out any, id string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<` + op + `Response xmlns="` + namespace + `">`)
	inner, err := xml.Marshal(out)
	if err != nil {
		return nil, err
	}
	b.WriteString(`<` + op + `Result>`)
	// xml.Marshal wraps out in an element named after its type: the
	// result's members are that element's contents.
	if i, j := bytes.IndexByte(inner, '>'), bytes.LastIndexByte(inner, '<'); i >= 0 && j > i && inner[i-1] != '/' {
		b.Write(inner[i+1 : j])
	}
	b.WriteString(`</` + op + `Result><ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></` + op + `Response>`)
	return b.Bytes(), nil
}

// apiError is a CloudWatch error: its query code (and HTTP status), and
// the exception the RPC protocols name.
type apiError struct {
	status    int
	code      string // the query protocol's code, also in X-Amzn-Query-Error
	exception string // the RPC protocols' __type
	message   string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidValue(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue", exception: "InvalidParameterValueException", message: msg}
}

func missingParameter(name string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MissingParameter", exception: "MissingRequiredParameterException",
		message: "The parameter " + name + " is required."}
}

func invalidCombination(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterCombination", exception: "InvalidParameterCombinationException", message: msg}
}

func invalidNextToken() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidNextToken", exception: "InvalidNextToken", message: "The NextToken is not valid."}
}

// apiErrorOf turns an operation's error into CloudWatch's.
func apiErrorOf(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	var se *shardlog.Error
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch {
	case errors.Is(err, shardlog.ErrAccessDenied):
		return &apiError{status: http.StatusForbidden, code: "AccessDenied", exception: "AccessDeniedException", message: msg}
	case errors.Is(err, shardlog.ErrInvalidArgument):
		return invalidValue(msg)
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalServiceError", exception: "InternalServiceFault", message: msg}
}

// signatureError is a refused signature in CloudWatch's words: the query
// protocol's codes for the exceptions Kinesis names.
func signatureError(e *sigv4.Error) *apiError {
	code, status := strings.TrimSuffix(e.Code, "Exception"), http.StatusForbidden
	switch e.Code {
	case "UnrecognizedClientException":
		code = "InvalidClientTokenId"
	case "InvalidSignatureException":
		code = "SignatureDoesNotMatch"
	case "IncompleteSignatureException":
		status = http.StatusBadRequest
	}
	return &apiError{status: status, code: code, exception: e.Code, message: e.Message}
}

// fail writes an error in the protocol's shape.
func (p protocol) fail(w http.ResponseWriter, e *apiError) {
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	var body []byte
	switch p.kind {
	case query:
		h.Set("Content-Type", "text/xml")
		var b bytes.Buffer
		b.WriteString(xml.Header + `<ErrorResponse xmlns="` + namespace + `"><Error><Type>` + fault + `</Type><Code>`)
		_ = xml.EscapeText(&b, []byte(e.code))
		b.WriteString(`</Code><Message>`)
		_ = xml.EscapeText(&b, []byte(e.message))
		b.WriteString(`</Message></Error><RequestId>` + h.Get("x-amzn-RequestId") + `</RequestId></ErrorResponse>`)
		body = b.Bytes()
	default:
		h.Set("X-Amzn-Query-Error", e.code+";"+fault)
		messageKey := "message"
		if e.exception == "InternalServiceFault" {
			messageKey = "Message" // so the model spells this one
		}
		doc := map[string]string{"__type": e.exception, messageKey: e.message}
		if p.kind == cborRPC {
			h.Set("Smithy-Protocol", "rpc-v2-cbor")
			h.Set("Content-Type", cborType)
			body, _ = cbor.Marshal(doc)
		} else {
			h.Set("Content-Type", jsonType)
			body, _ = json.Marshal(doc)
		}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// double is a number CloudWatch returns, which its JSON writes with a
// decimal point (1.0), as clients that print it show it.
type double float64

func (d double) MarshalJSON() ([]byte, error) {
	v := float64(d)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, errors.New("a datapoint is not a finite number")
	}
	b := strconv.AppendFloat(nil, v, 'f', -1, 64)
	if math.Abs(v) >= 1e21 {
		b = strconv.AppendFloat(b[:0], v, 'g', -1, 64)
	}
	if !bytes.ContainsAny(b, ".e") {
		b = append(b, ".0"...)
	}
	return b, nil
}

// stamp is a timestamp in each protocol's form: epoch seconds in JSON,
// tag 1 in CBOR, ISO 8601 in the query protocol.
type stamp struct{ time.Time }

func (s *stamp) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		var text string
		if json.Unmarshal(b, &text) != nil {
			return errors.New("a timestamp is epoch seconds")
		}
		return s.parse(text)
	}
	return s.setSeconds(secs)
}

func (s *stamp) UnmarshalCBOR(b []byte) error {
	var v any
	if err := cborDecoding.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case time.Time:
		s.Time = v.UTC()
		return nil
	case cbor.Tag:
		return s.setNumber(v.Content)
	default:
		return s.setNumber(v)
	}
}

func (s *stamp) setNumber(v any) error {
	switch v := v.(type) {
	case uint64:
		return s.setSeconds(float64(v))
	case int64:
		return s.setSeconds(float64(v))
	case float64:
		return s.setSeconds(v)
	}
	return errors.New("a timestamp is epoch seconds")
}

// maxSeconds keeps timestamps within what time.Time and JSON numbers hold.
const maxSeconds = 1 << 40

func (s *stamp) setSeconds(secs float64) error {
	if math.IsNaN(secs) || math.Abs(secs) > maxSeconds {
		return errors.New("a timestamp is out of range")
	}
	whole, frac := math.Modf(secs)
	s.Time = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	return nil
}

// parse reads a query protocol timestamp: ISO 8601, or epoch seconds.
func (s *stamp) parse(text string) error {
	if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
		s.Time = t.UTC()
		return nil
	}
	secs, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return errors.New("a timestamp is ISO 8601 or epoch seconds")
	}
	return s.setSeconds(secs)
}

func (s stamp) seconds() float64 { return float64(s.UnixNano()) / 1e9 }

func (s stamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, s.seconds(), 'f', -1, 64), nil
}

func (s stamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: s.seconds()})
}

func (s stamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(s.UTC().Format("2006-01-02T15:04:05.000Z"), start)
}
