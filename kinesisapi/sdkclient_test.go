package kinesisapi_test

import (
	"io"
	"net/http"
)

// sdkClient returns c with a transport that hands the SDK's request
// bodies on without their WriteTo method. The SDK closes a request's body
// as soon as the response arrives, and the body's WriteTo then returns
// io.EOF as an error; net/http makes one last read of a body it has sent
// (through WriteTo), and on that error closes the connection. Over
// loopback the response can beat that read, and the event stream of a
// SubscribeToShard dies with "use of closed network connection" (about 1
// run in 150 of TestDrainEndsSubscriptionsCleanly under -race). Read
// returns io.EOF there, which ends a copy cleanly.
func sdkClient(c *http.Client) *http.Client {
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out := *c
	out.Transport = roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil && r.Body != http.NoBody {
			r = r.Clone(r.Context())
			r.Body = readCloser{r.Body}
		}
		return base.RoundTrip(r)
	})
	return &out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// readCloser hides every method of its ReadCloser but Read and Close.
type readCloser struct{ io.ReadCloser }
