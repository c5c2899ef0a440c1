package kinesisapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sync"
	"time"
)

// readBody reads a request body within the handler's bounds: at most
// maxBody bytes, at least the minimum upload rate, by the read deadline
// ServeHTTP set, taking memory for it as it arrives. It answers the
// request itself when it cannot, and otherwise returns the body and a
// release for the memory, to call (once or more) when the body and what was
// decoded from it are no longer needed.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, release func(), ok bool) {
	if r.ContentLength > h.maxBody {
		h.tooLarge(w)
		return nil, nil, false
	}
	who := holderOf(r)
	var held int64
	body, err := h.readCharged(w, r, who, &held)
	release = sync.OnceFunc(func() { h.memory.release(who, held) })
	if err != nil {
		defer release()
		var tooBig *http.MaxBytesError
		var slow *slowBodyError
		switch {
		case errors.As(err, &tooBig):
			h.tooLarge(w)
		case errors.Is(err, errNoMemory):
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "The server is busy; retry the request.")
		case errors.As(err, &slow):
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, "RequestTimeoutException", slow.Error())
		default:
			writeError(w, http.StatusBadRequest, "SerializationException", "Could not read the request body.")
		}
		return nil, nil, false
	}
	return body, release, true
}

// readChunk is how much of a body is read, and charged for, at a time.
const readChunk = 64 << 10

// errNoMemory is a body for which memory did not come free in time.
var errNoMemory = errors.New("no memory for the body")

// slowBodyError is a body that did not arrive in time.
type slowBodyError struct{ msg string }

func (e *slowBodyError) Error() string { return e.msg }

// readCharged reads r's body, taking twice each chunk (the body and what
// it decodes to) from the handler's memory before reading it, up to what
// one request may hold; *held is what it took. Each read must finish by
// the body timeout and, past the grace period, keep up the minimum upload
// rate (time spent waiting for memory does not count). A body is read
// into pooled chunks and copied out whole at its end: nothing is allocated
// for what has not arrived, and nothing twice over for what has.
func (h *handler) readCharged(w http.ResponseWriter, r *http.Request, who holder, held *int64) ([]byte, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), h.bodyTimeout)
	defer cancel()
	rc := http.NewResponseController(w)
	limit := h.memory.clamp(math.MaxInt64)
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	var chunks []*[readChunk]byte
	defer func() {
		for _, c := range chunks {
			chunkPool.Put(c)
		}
	}()
	var waited time.Duration
	n := 0 // bytes read
	for {
		if r.ContentLength >= 0 && int64(n) == r.ContentLength {
			return h.bodyOf(who, held, limit, chunks, n), nil // the server holds it to its length
		}
		if n == len(chunks)*readChunk {
			chunks = append(chunks, chunkPool.Get().(*[readChunk]byte))
		}
		c := chunks[len(chunks)-1][n%readChunk:]
		if r.ContentLength >= 0 {
			c = c[:min(int64(len(c)), r.ContentLength-int64(n))]
		}
		if step := min(2*int64(len(c)), limit-*held); step > 0 {
			t := time.Now()
			if err := h.memory.acquire(ctx, who, step); err != nil {
				return nil, errNoMemory
			}
			*held += step
			waited += time.Since(t)
		}
		deadline, slow := start.Add(h.bodyTimeout), fmt.Sprintf("The request body did not arrive within %v.", h.bodyTimeout)
		if h.minRate > 0 {
			// The next byte is due when the rate says: a Read returns what
			// has come, so every read is held to the pace.
			byRate := start.Add(waited + h.rateGrace + time.Duration(float64(n+1)/float64(h.minRate)*float64(time.Second)))
			if byRate.Before(deadline) {
				deadline, slow = byRate, fmt.Sprintf("The request body arrived slower than %d bytes a second.", h.minRate)
			}
		}
		_ = rc.SetReadDeadline(deadline)
		k, err := body.Read(c)
		n += k
		switch {
		case err == io.EOF:
			return h.bodyOf(who, held, limit, chunks, n), nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, &slowBodyError{slow}
		case err != nil:
			return nil, err
		}
	}
}

// bodyOf copies the n bytes read into chunks out whole, and gives back the
// memory taken for what did not come.
func (h *handler) bodyOf(who holder, held *int64, limit int64, chunks []*[readChunk]byte, n int) []byte {
	if extra := *held - min(2*int64(n), limit); extra > 0 {
		h.memory.release(who, extra)
		*held -= extra
	}
	out := make([]byte, n)
	for i, c := range chunks {
		copy(out[i*readChunk:], c[:])
	}
	return out
}

// chunkPool holds the chunks bodies are read into.
var chunkPool = sync.Pool{New: func() any { return new([readChunk]byte) }}

func (h *handler) tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, "SerializationException", fmt.Sprintf("Request body exceeds %d bytes.", h.maxBody))
}
