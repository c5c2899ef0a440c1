package aws

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// bodyGuard hands the SDK's request bodies to its HTTP client without
// their WriteTo method. The SDK closes a request's body as soon as the
// response arrives, and the body's WriteTo then returns io.EOF as an
// error; net/http makes one last read of a body it has already sent
// (through WriteTo), and on that error closes the connection under the
// response being read. On a fast network (loopback: shardlogd on the same
// machine) the response can come first: a subscription then dies with
// "use of closed network connection", and any other call is retried by
// the SDK although it took effect — a PutRecords stores its records twice,
// a conditional lease update fails its condition. Read returns io.EOF
// there, which ends the copy cleanly.
type bodyGuard struct{ next kinesis.HTTPClient }

func (g bodyGuard) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy, for a body of its own
		r.Body = readCloser{r.Body}
	}
	return g.next.Do(r)
}

// readCloser hides every method of its ReadCloser but Read and Close.
type readCloser struct{ io.ReadCloser }

// guardKinesis and guardDynamoDB are per-call options that put bodyGuard
// in front of the client's HTTP client.
func guardKinesis(o *kinesis.Options) {
	if _, ok := o.HTTPClient.(bodyGuard); !ok {
		o.HTTPClient = bodyGuard{o.HTTPClient}
	}
}

func guardDynamoDB(o *dynamodb.Options) {
	if _, ok := o.HTTPClient.(bodyGuard); !ok {
		o.HTTPClient = bodyGuard{o.HTTPClient}
	}
}
