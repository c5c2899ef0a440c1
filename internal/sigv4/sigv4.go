// Package sigv4 checks AWS Signature Version 4 on requests to shardlog's
// servers, in AWS's words.
//
// With access control on (shardlog.WithAccessControl), every request must
// be signed with Signature Version 4 by an access key of the account, in
// the Authorization header or in the query string (a presigned URL); the
// key's principal becomes the call's shardlog.Caller. The checks and their
// answers are AWS's: MissingAuthenticationTokenException for an unsigned
// request, IncompleteSignatureException for a signature missing a part or
// not covering the host, the content type and every x-amz-* header,
// UnrecognizedClientException for an unknown key, and
// InvalidSignatureException for a wrong scope, a time more than 5 minutes
// off the account clock (Kinesis's window), an expired presigned URL, or a
// signature that does not match — with the canonical request and string to
// sign the server computed, as AWS shows them. Session tokens
// (X-Amz-Security-Token) are signed like any header but not checked.
// Without access control, a server checks only that a request carries a
// signature of that shape (Shaped).
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	sigSkew      = 5 * time.Minute
	amzDate      = "20060102T150405Z"
	// maxSignedHeaders bounds the headers a signature may cover.
	maxSignedHeaders = 64
)

// Error is a refused signature: the AWS exception and its message.
type Error struct{ Code, Message string }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Missing reports whether the request carried no signature at all.
func (e *Error) Missing() bool { return e.Code == missingToken().Code }

func missingToken() *Error {
	return &Error{"MissingAuthenticationTokenException", "Missing Authentication Token"}
}

// signature is what a request says of its signature, from the header or
// the query string.
type signature struct {
	presigned     bool
	algorithm     string
	credential    string // keyid/date/region/service/aws4_request
	signedHeaders string
	sig           string
	date          string // X-Amz-Date (or the Date header)
	expires       string // presigned only
}

// parseSignature reads the signature's parts and checks that none is
// missing, in AWS's words.
func parseSignature(r *http.Request) (signature, *Error) {
	auth := r.Header.Get("Authorization")
	var query url.Values
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	_, presigned := query["X-Amz-Algorithm"]
	switch {
	case auth != "" && presigned:
		return signature{}, &Error{"InvalidSignatureException", "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}
	case auth == "" && !presigned:
		return signature{}, missingToken()
	case presigned:
		s := signature{presigned: true, algorithm: query.Get("X-Amz-Algorithm"), credential: query.Get("X-Amz-Credential"),
			signedHeaders: query.Get("X-Amz-SignedHeaders"), sig: query.Get("X-Amz-Signature"),
			date: query.Get("X-Amz-Date"), expires: query.Get("X-Amz-Expires")}
		var msg strings.Builder
		for _, p := range []struct{ name, v string }{{"X-Amz-Algorithm", s.algorithm}, {"X-Amz-Credential", s.credential},
			{"X-Amz-Signature", s.sig}, {"X-Amz-SignedHeaders", s.signedHeaders}, {"X-Amz-Date", s.date}} {
			if p.v == "" {
				msg.WriteString("AWS query-string parameters must include '" + p.name + "'. ")
			}
		}
		if msg.Len() > 0 {
			return s, &Error{"IncompleteSignatureException", msg.String() + "Re-examine the query-string parameters."}
		}
		return s, nil
	}
	s := signature{}
	fields := strings.FieldsFunc(auth, func(c rune) bool { return c == ',' || c == ' ' })
	if len(fields) > 0 {
		s.algorithm = fields[0]
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "Credential":
				s.credential = v
			case "SignedHeaders":
				s.signedHeaders = v
			case "Signature":
				s.sig = v
			}
		}
	}
	s.date = r.Header.Get("X-Amz-Date")
	if s.date == "" {
		s.date = r.Header.Get("Date")
	}
	var msg strings.Builder
	for _, p := range []struct{ name, v string }{{"Credential", s.credential}, {"Signature", s.sig}, {"SignedHeaders", s.signedHeaders}} {
		if p.v == "" {
			msg.WriteString("Authorization header requires '" + p.name + "' parameter. ")
		}
	}
	if s.date == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return s, &Error{"IncompleteSignatureException", msg.String() + "Authorization=" + auth}
	}
	return s, nil
}

// Present reports how a request without a signature, or with one missing
// a part, is refused; nil if it carries one, whole.
func Present(r *http.Request) *Error {
	_, err := parseSignature(r)
	return err
}

// Shaped checks what a server without access control checks of a request's
// signature: that it has one, in SigV4's shape (algorithm, scope, date,
// and covering the host, the content type and every x-amz-* header).
func Shaped(r *http.Request) *Error {
	s, err := parseSignature(r)
	if err != nil {
		return err
	}
	_, _, err = signatureParts(s, r)
	return err
}

// signatureParts checks the parts of a signature that need no key: the
// algorithm, the credential's scope, the date, and that the signature
// covers what it must. It returns the scope and the date.
func signatureParts(s signature, r *http.Request) (scope []string, when time.Time, serr *Error) {
	if strings.Count(s.signedHeaders, ";") >= maxSignedHeaders {
		// Each one is looked for among the request's headers: bound the work
		// a hostile request can ask for. SDKs sign a handful.
		return nil, when, &Error{"InvalidSignatureException", fmt.Sprintf("A request may sign at most %d headers.", maxSignedHeaders)}
	}
	if s.algorithm != sigAlgorithm {
		return nil, when, &Error{"IncompleteSignatureException", "Unsupported AWS 'algorithm': '" + s.algorithm + "'"}
	}
	scope = strings.Split(s.credential, "/")
	if len(scope) != 5 {
		return nil, when, &Error{"IncompleteSignatureException",
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + s.credential + "'"}
	}
	when, err := time.Parse(amzDate, s.date)
	if err != nil && !s.presigned {
		when, err = http.ParseTime(s.date)
	}
	if err != nil {
		return nil, when, &Error{"IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '" + s.date + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
	}
	return scope, when, checkSignedHeaders(s, r)
}

// checkSignedHeaders refuses a signature that leaves the host, the content
// type or an x-amz-* header out: a request signed as one operation could
// otherwise be replayed as another (X-Amz-Target), or to another host.
func checkSignedHeaders(s signature, r *http.Request) *Error {
	signed := func(name string) bool {
		for names := s.signedHeaders; names != ""; {
			var n string
			n, names, _ = strings.Cut(names, ";")
			if n == name {
				return true
			}
		}
		return false
	}
	if !signed("host") && !signed(":authority") {
		return &Error{"IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}
	}
	var unsigned []string
	for key := range r.Header {
		name := strings.ToLower(key)
		if (strings.HasPrefix(name, "x-amz-") || name == "content-type") && !signed(name) {
			unsigned = append(unsigned, name)
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned)
		return &Error{"IncompleteSignatureException", "There were headers present in the request which were not signed: " + strings.Join(unsigned, ", ") + "."}
	}
	return nil
}

// Verifier checks signatures for one service, caching signing keys.
type Verifier struct {
	service string // the credential scope's: "kinesis", "monitoring"
	keys    signingKeys
}

// NewVerifier returns a Verifier of signatures scoped to service.
func NewVerifier(service string) *Verifier { return &Verifier{service: service} }

// Verify checks r's signature over body against the account's keys and
// clock, and returns the caller it proves.
func (v *Verifier) Verify(acct *shardlog.Account, r *http.Request, body []byte) (shardlog.Caller, *Error) {
	s, serr := parseSignature(r)
	if serr != nil {
		return shardlog.Caller{}, serr
	}
	scope, when, serr := signatureParts(s, r)
	if serr != nil {
		return shardlog.Caller{}, serr
	}
	secret, principal, known := acct.AccessKey(scope[0])
	if !known {
		return shardlog.Caller{}, &Error{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	now := acct.Clock().Now().UTC()
	if serr := checkTime(s, when, now); serr != nil {
		return shardlog.Caller{}, serr
	}
	switch {
	case scope[1] != when.Format("20060102"):
		return shardlog.Caller{}, &Error{"InvalidSignatureException", fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			scope[1], when.Format("20060102"), when.Format(amzDate))}
	case scope[2] != acct.Region():
		return shardlog.Caller{}, &Error{"InvalidSignatureException", "Credential should be scoped to a valid region, not '" + scope[2] + "'. "}
	case scope[3] != v.service:
		return shardlog.Caller{}, &Error{"InvalidSignatureException", "Credential should be scoped to correct service: '" + v.service + "'. "}
	case scope[4] != "aws4_request":
		return shardlog.Caller{}, &Error{"InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not '" + scope[4] + "'. "}
	}
	canonical := canonicalRequest(r, s, body)
	sum := sha256.Sum256([]byte(canonical))
	toSign := sigAlgorithm + "\n" + s.date + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := v.keys.get(secret, scope[1], scope[2], scope[3])
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(s.sig)) {
		return shardlog.Caller{}, &Error{"InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n" +
				"The Canonical String for this request should have been\n'" + canonical + "'\n\n" +
				"The String-to-Sign should have been\n'" + toSign + "'\n"}
	}
	c := shardlog.Caller{PrincipalARN: principal, SecureTransport: r.TLS != nil}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c.SourceIP, _ = netip.ParseAddr(host)
	}
	return c, nil
}

// checkTime refuses a signature made more than 5 minutes from now, or a
// presigned URL past its X-Amz-Expires.
func checkTime(s signature, when, now time.Time) *Error {
	if s.presigned {
		secs, err := strconv.Atoi(s.expires)
		if err != nil || secs < 1 || secs > 604800 {
			return &Error{"InvalidSignatureException", "X-Amz-Expires must be a whole number of seconds from 1 to 604800, not '" + s.expires + "'."}
		}
		if end := when.Add(time.Duration(secs) * time.Second); now.After(end) {
			return &Error{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
				when.Format(amzDate), now.Add(-time.Duration(secs)*time.Second).Format(amzDate), now.Format(amzDate), secs)}
		}
	} else if when.Before(now.Add(-sigSkew)) {
		return &Error{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			when.Format(amzDate), now.Add(-sigSkew).Format(amzDate), now.Format(amzDate))}
	}
	if when.After(now.Add(sigSkew)) {
		return &Error{"InvalidSignatureException", fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			when.Format(amzDate), now.Add(sigSkew).Format(amzDate), now.Format(amzDate))}
	}
	return nil
}

// canonicalRequest is SigV4's canonical form of r.
func canonicalRequest(r *http.Request, s signature, body []byte) string {
	var b strings.Builder
	b.Grow(256 + 2*len(s.signedHeaders))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	switch path := r.URL.EscapedPath(); path {
	case "", "/":
		b.WriteByte('/')
	default:
		b.WriteString(uriEncode(path, false))
	}
	b.WriteByte('\n')
	if r.URL.RawQuery != "" {
		b.WriteString(canonicalQuery(r.URL.Query()))
	}
	b.WriteByte('\n')
	for names := s.signedHeaders; names != ""; {
		var name string
		name, names, _ = strings.Cut(names, ";")
		b.WriteString(name)
		b.WriteByte(':')
		writeHeaderValue(&b, r, name)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(s.signedHeaders)
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// writeHeaderValue writes a signed header's canonical value: its values,
// trimmed, runs of spaces made one, joined by commas.
func writeHeaderValue(b *strings.Builder, r *http.Request, name string) {
	switch name {
	case "host", ":authority": // the JavaScript SDK signs HTTP/2's pseudo-header
		writeTrimmed(b, r.Host)
		return
	case "content-length":
		b.WriteString(strconv.FormatInt(r.ContentLength, 10))
		return
	}
	for key, values := range r.Header {
		if !strings.EqualFold(key, name) {
			continue
		}
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTrimmed(b, v)
		}
	}
}

// writeTrimmed writes v without leading and trailing spaces, each run of
// spaces inside made one.
func writeTrimmed(b *strings.Builder, v string) {
	space, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space && started {
			b.WriteByte(' ')
		}
		space, started = false, true
		b.WriteByte(c)
	}
}

// canonicalQuery sorts the query string's parameters (without the
// signature) and encodes them as SigV4 does.
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		if k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes all but the unreserved characters (and, in a
// path, slashes), as SigV4 requires.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// signingKeys caches signing keys, which change once a day per access
// key: deriving one takes four HMACs.
type signingKeys struct {
	mu   sync.Mutex
	keys map[string][]byte // by secret, date, region and service
}

// get returns the signing key of secret for a day, region and service.
func (k *signingKeys) get(secret, date, region, service string) []byte {
	id := secret + "/" + date + "/" + region + "/" + service
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[id]; ok {
		return key
	}
	if k.keys == nil || len(k.keys) >= 1024 { // bounded: start over
		k.keys = map[string][]byte{}
	}
	key := signingKey(secret, date, region, service)
	k.keys[id] = key
	return key
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
