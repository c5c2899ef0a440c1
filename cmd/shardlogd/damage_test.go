package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// putMany puts n records of about 500 bytes into stream s, 500 a call.
func putMany(t *testing.T, client *http.Client, endpoint string, n int) {
	t.Helper()
	for i := 0; i < n; {
		var recs []string
		for ; len(recs) < 500 && i < n; i++ {
			d := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("record %05d %s", i, strings.Repeat("x", 480))))
			recs = append(recs, `{"PartitionKey":"k","Data":"`+d+`"}`)
		}
		status, body := post(t, client, endpoint, "PutRecords", `{"StreamName":"s","Records":[`+strings.Join(recs, ",")+`]}`)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `"FailedRecordCount":0`)
	}
}

// readUntilError reads shard 0 from TRIM_HORIZON with GetRecords until a
// call fails or the records run out, and returns how many came and the
// failing status and body.
func readUntilError(t *testing.T, client *http.Client, endpoint string) (n int, status int, body string) {
	t.Helper()
	status, body = post(t, client, endpoint, "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)
	require.Equal(t, http.StatusOK, status, body)
	var out struct {
		ShardIterator      string
		NextShardIterator  string
		Records            []json.RawMessage
		MillisBehindLatest int64
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	it := out.ShardIterator
	for range 1000 {
		status, body = post(t, client, endpoint, "GetRecords", `{"ShardIterator":"`+it+`"}`)
		if status != http.StatusOK {
			return n, status, body
		}
		out.Records = nil
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		if len(out.Records) == 0 {
			require.Zero(t, out.MillisBehindLatest, "an empty answer means the reader is at the tip")
			return n, status, body
		}
		n += len(out.Records)
		it = out.NextShardIterator
	}
	t.Fatal("the reads never ended")
	return
}

// TestDamagedFilesFailReadsOverTheWire: with -data, a byte flipped in a
// sealed segment file on disk makes GetRecords fail with InternalFailure
// (500) once a reader reaches it, after every record before it; never an
// empty 200. The server's log names the damage.
func TestDamagedFilesFailReadsOverTheWire(t *testing.T) {
	dir := t.TempDir()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	endpoint, stop := serve(t, "-data", dir)
	status, body := post(t, client, endpoint, "CreateStream", `{"StreamName":"s","ShardCount":1}`)
	require.Equal(t, http.StatusOK, status, body)
	putMany(t, client, endpoint, 5000) // segment files of 64 KiB, 128 KiB, ... 1 MiB
	client.CloseIdleConnections()
	stop()

	files, err := filepath.Glob(filepath.Join(dir, "streams", "*", "0-*.seg"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3)
	f, err := os.OpenFile(files[len(files)-2], os.O_RDWR, 0) // sealed
	require.NoError(t, err)
	fi, err := f.Stat()
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, fi.Size()/4)
	require.NoError(t, err)
	b[0] ^= 0x55
	_, err = f.WriteAt(b, fi.Size()/4)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	endpoint, stop = serve(t, "-data", dir)
	defer stop()
	n, status, body := readUntilError(t, client, endpoint)
	require.Equal(t, http.StatusInternalServerError, status, body)
	require.Contains(t, body, "InternalFailure")
	require.Contains(t, body, "damaged")
	require.Greater(t, n, 500, "the records before the damage came first")
	require.Less(t, n, 5000)
}

// TestDurableServerKeepsWhatItAcknowledged: with -data the account's size
// bounds are off unless given (they protect memory in a server without
// -data); given, they apply.
func TestDurableServerKeepsWhatItAcknowledged(t *testing.T) {
	bounds := func(args ...string) map[string]any {
		_, log, stop := serveLogged(t, append([]string{"-log-format", "json"}, args...)...)
		require.NoError(t, stop())
		for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			if m["msg"] == "serving Kinesis" {
				return m
			}
		}
		t.Fatal("no serving line")
		return nil
	}
	m := bounds()
	require.EqualValues(t, 1<<30, m["max_bytes"])
	require.EqualValues(t, 16<<20, m["max_records"])
	m = bounds("-data", t.TempDir())
	require.EqualValues(t, 0, m["max_bytes"], "a durable server drops nothing it acknowledged")
	require.EqualValues(t, 0, m["max_records"])
	m = bounds("-data", t.TempDir(), "-max-records", "5000")
	require.EqualValues(t, 0, m["max_bytes"])
	require.EqualValues(t, 5000, m["max_records"], "unless told to")
}
