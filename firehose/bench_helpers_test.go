package firehose_test

import (
	"encoding/json"
	"net/http"
	"runtime"
	"time"
)

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

// waitBriefly lets the delivery run while a benchmark waits for it.
func waitBriefly() {
	runtime.Gosched()
	time.Sleep(time.Millisecond)
}
