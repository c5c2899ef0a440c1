package kinesisapi

import (
	"context"
	"net/http"

	"github.com/shardlog/shardlog/internal/sigv4"
)

// With access control on (shardlog.WithAccessControl), every request must
// be signed (see internal/sigv4), its credential scoped to "kinesis", and
// the key's principal becomes the call's shardlog.Caller. Without access
// control, a request must still carry a signature of that shape, unless
// the handler serves unsigned requests.

// shape checks what a handler without access control checks of a
// request's signature: that it has one (unless unsigned requests are
// served), in SigV4's shape.
func (h *handler) shape(r *http.Request) *sigv4.Error {
	if err := sigv4.Shaped(r); err != nil && !(err.Missing() && h.unsigned) {
		return err
	}
	return nil
}

// opKey carries the operation a request calls, for lookups that answer a
// denied caller before a missing resource.
type opKey struct{}

func withOperation(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, opKey{}, name)
}

func operationOf(ctx context.Context) string {
	name, _ := ctx.Value(opKey{}).(string)
	return name
}

// signatureShapeOK answers a request AWS's front end refuses before it
// routes it (another method or content type) for its signature's shape: in
// XML, with HTTP 403, as AWS does. It reports whether the request may go
// on to be answered otherwise.
func (h *handler) signatureShapeOK(w http.ResponseWriter, r *http.Request) bool {
	if err := sigv4.Present(r); err != nil && !(h.unsigned && !h.acct.AccessControl() && err.Missing()) {
		writeXMLError(w, http.StatusForbidden, err.Code, err.Message)
		return false
	}
	return true
}
