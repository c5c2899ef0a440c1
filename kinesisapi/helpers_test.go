package kinesisapi_test

import (
	"net/http"
	"strings"
)

func httptestRequest(url, target, contentType, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	return req
}

// errOf returns the error of a call that also returns a value.
func errOf[T any](_ T, err error) error { return err }
