package kinesisapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// readBody reads a request body within the handler's bounds: at most
// maxBody bytes, while memory for it is free, by the read deadline
// ServeHTTP set. It
// answers the request itself when it cannot, and otherwise returns the body
// and a release for the memory, to call (once or more) when the body and
// what was decoded from it are no longer needed.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, release func(), ok bool) {
	if r.ContentLength > h.maxBody {
		h.tooLarge(w)
		return nil, nil, false
	}
	size := r.ContentLength // -1 when unknown (chunked): then it may reach maxBody
	if size < 0 {
		size = h.maxBody
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.bodyTimeout)
	defer cancel()
	cost := 2 * size
	if err := h.memory.acquire(ctx, cost); err != nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "The server is busy; retry the request.")
		return nil, nil, false
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, h.maxBody), r.ContentLength, h.maxBody)
	if err == nil && int64(2*len(body)) < cost { // a body of unknown length: keep what it took
		h.memory.release(cost - int64(2*len(body)))
		cost = int64(2 * len(body))
	}
	release = sync.OnceFunc(func() { h.memory.release(cost) })
	if err != nil {
		defer release()
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			h.tooLarge(w)
		case errors.Is(err, os.ErrDeadlineExceeded):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, "RequestTimeoutException",
				fmt.Sprintf("The request body did not arrive within %v.", h.bodyTimeout))
		default:
			writeError(w, http.StatusBadRequest, "SerializationException", "Could not read the request body.")
		}
		return nil, nil, false
	}
	return body, release, true
}

func (h *handler) tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, "SerializationException", fmt.Sprintf("Request body exceeds %d bytes.", h.maxBody))
}

// readAll reads r to its end into one buffer of the declared length, or,
// for a body of unknown length, into a buffer that grows up to limit.
func readAll(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared >= 0 {
		b := make([]byte, declared)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b := make([]byte, 0, min(limit, 64<<10))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow by append's policy
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
