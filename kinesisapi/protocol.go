package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// How Kinesis's front end answers before an operation runs, as responses
// recorded against AWS show: CORS for browsers, request IDs, and the
// answers to requests that name no operation, the wrong content type or an
// empty body.

const (
	cborType       = "application/x-amz-cbor-1.1"
	deprecatedJSON = "application/json" // AWS answers it in an older envelope
	targetService  = "Kinesis_20131202"
)

// exposedHeaders are the response headers a browser page may read.
const exposedHeaders = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"

// setRequestHeaders gives every response a request ID (a UUID) and an
// x-amz-id-2, and, for requests from a browser page (with an Origin), the
// CORS headers that let the page read them.
func (h *handler) setRequestHeaders(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	var id [18]byte // a multiple of 3 bytes, so that its base64 joins the tail's
	copy(id[:8], h.idSeed[:8])
	binary.BigEndian.PutUint64(id[8:16], h.ids.Add(1))
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	hdr["X-Amzn-Requestid"] = []string{uuid(id[:16])}
	origin := r.Header.Get("Origin") != ""
	if !(origin && r.Method == http.MethodOptions) {
		hdr["X-Amz-Id-2"] = []string{base64.StdEncoding.EncodeToString(id[:]) + h.id2Tail}
	}
	if origin {
		hdr["Access-Control-Allow-Origin"] = []string{"*"}
		if r.Method != http.MethodOptions {
			hdr["Access-Control-Expose-Headers"] = []string{exposedHeaders}
		}
	}
}

// uuid formats 16 bytes as 8-4-4-4-12 hex digits.
func uuid(b []byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

// preflight answers a browser's CORS preflight: any origin, the method and
// headers it asks for, for two days.
func preflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if v := r.Header.Get("Access-Control-Request-Headers"); v != "" {
		hdr.Set("Access-Control-Allow-Headers", v)
	}
	if v := r.Header.Get("Access-Control-Request-Method"); v != "" {
		hdr.Set("Access-Control-Allow-Methods", v)
	}
	hdr.Set("Access-Control-Max-Age", "172800")
	hdr.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// route finds the operation a POST names, answering as AWS does when it
// names none or comes in a form AWS does not serve: an empty body, another
// content type, the older application/json envelope.
// ct is the request's media type.
func (h *handler) route(w http.ResponseWriter, r *http.Request, ct string, body []byte) (name string, f operation, jsonBody []byte, ok bool) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" && r.URL.RawQuery != "" {
		// A presigned URL carries it in its (signed) query string.
		target = r.URL.Query().Get("X-Amz-Target")
	}
	service, name, _ := strings.Cut(target, ".")
	name, _, _ = strings.Cut(name, ".")
	f = operations[name]
	known := service == targetService && (f != nil || name == "SubscribeToShard")
	switch {
	case len(body) == 0:
		code := "UnknownOperationException"
		if known {
			code = "SerializationException"
		}
		writeError(w, http.StatusBadRequest, code, "")
	case ct != jsonType && ct != cborType && ct != deprecatedJSON:
		if !h.signatureShapeOK(w, r) {
			break
		}
		if service == "" || name == "" {
			writeXMLError(w, http.StatusForbidden, "AccessDeniedException", "Unable to determine service/operation name to be authorized")
		} else {
			writeXMLError(w, http.StatusNotFound, "UnknownOperationException", "")
		}
	case ct == deprecatedJSON:
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
			writeDeprecated(w, http.StatusNotFound, "UnknownOperationException")
		} else {
			writeDeprecated(w, http.StatusBadRequest, "SerializationException")
		}
	case !known:
		msg := ""
		if service == targetService && slices.Contains(unsupported, name) {
			msg = "shardlog does not support " + name + "."
		}
		writeError(w, http.StatusBadRequest, "UnknownOperationException", msg)
	case ct == cborType:
		body, err := cborToJSON(body, inputShapes[name])
		if err != nil {
			writeCoreError(w, err)
			break
		}
		return name, f, body, true
	default:
		return name, f, body, true
	}
	return "", nil, nil, false
}

// writeXMLError answers in the XML AWS's front end uses for requests it
// cannot route: <Code>\n  <Message>...</Message>\n</Code>, or <Code/>.
func writeXMLError(w http.ResponseWriter, status int, code, message string) {
	body := "<" + code + "/>\n"
	if message != "" {
		body = "<" + code + ">\n  <Message>" + xmlEscape(message) + "</Message>\n</" + code + ">\n"
	}
	w.Header()["Content-Type"] = nil // none, as AWS sends none
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// writeDeprecated answers an application/json request in the envelope AWS
// uses for it.
func writeDeprecated(w http.ResponseWriter, status int, code string) {
	body := `{"Output":{"__type":"com.amazon.coral.service#` + code + `"},"Version":"1.0"}`
	w.Header().Set("Content-Type", deprecatedJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
