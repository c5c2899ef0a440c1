package sigv4

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
)

// FuzzVerify: no Authorization header, query string or date makes
// signature checking panic, and only a correct signature passes.
func FuzzVerify(f *testing.F) {
	acct, err := shardlog.NewAccount(shardlog.WithAccessControl())
	if err != nil {
		f.Fatal(err)
	}
	defer acct.Close()
	if err := acct.PutPrincipal("arn:aws:iam::000000000000:user/u"); err != nil {
		f.Fatal(err)
	}
	if err := acct.PutAccessKey("AKID", "secret", "arn:aws:iam::000000000000:user/u"); err != nil {
		f.Fatal(err)
	}
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "", "20260101T000000Z", "{}")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "{}")
	f.Add("X", "a=%zz&b", "Mon, 02 Jan 2006 15:04:05 GMT", "")
	f.Fuzz(func(t *testing.T, auth, query, date, body string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/", RawQuery: query}, Host: "localhost",
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), RemoteAddr: "127.0.0.1:1"}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		if _, serr := NewVerifier("kinesis").Verify(acct, r, []byte(body)); serr == nil {
			t.Fatalf("accepted a forged signature: %q %q", auth, query)
		}
	})
}

func TestWriteTrimmed(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "  a  b\t c ": "a b c", "a : b": "a : b", "\t": ""} {
		var b strings.Builder
		writeTrimmed(&b, in)
		if b.String() != want {
			t.Errorf("%q: got %q, want %q", in, b.String(), want)
		}
	}
}
