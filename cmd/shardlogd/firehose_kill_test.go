//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testsize"
)

// TestFirehoseSurvivesKills runs shardlogd -data with two direct-put
// delivery streams — one to a bucket folder, one to an HTTP endpoint that
// fails now and then — puts records into both, and kills the server with
// SIGKILL at random moments, again and again; a last server delivers what
// is left. Every record a put acknowledged is delivered at least once to
// each destination.
func TestFirehoseSurvivesKills(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "shardlogd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 28))

	var hookMu sync.Mutex
	hooked := map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			RequestID string `json:"requestId"`
			Records   []struct {
				Data []byte `json:"data"`
			} `json:"records"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil || rand.IntN(10) == 0 {
			w.WriteHeader(http.StatusInternalServerError) // retried
			return
		}
		hookMu.Lock()
		for _, rec := range body.Records {
			hooked[strings.TrimSpace(string(rec.Data))] = true
		}
		hookMu.Unlock()
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d}`, body.RequestID, time.Now().UnixMilli())
	}))
	defer hook.Close()

	acked := map[string]bool{}
	for round := range testsize.Rounds(t, "SHARDLOG_FIREHOSE_KILLS", 20, 5) + 1 {
		last := round == testsize.Rounds(t, "SHARDLOG_FIREHOSE_KILLS", 20, 5)
		cmd, c := startFirehoseServer(t, bin, dir)
		if round == 0 {
			s3 := &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::lake"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
				Prefix: aws.String("out/"), BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}}
			_, err := c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("lake"), ExtendedS3DestinationConfiguration: s3})
			require.NoError(t, err)
			_, err = c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("hook"),
				HttpEndpointDestinationConfiguration: &types.HttpEndpointDestinationConfiguration{
					EndpointConfiguration: &types.HttpEndpointConfiguration{Url: aws.String(hook.URL)},
					BufferingHints:        &types.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
					RetryOptions:          &types.HttpEndpointRetryOptions{DurationInSeconds: aws.Int32(7200)},
					S3Configuration:       &types.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::backup"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
				}})
			require.NoError(t, err)
		}
		if last {
			var missing []string
			require.Eventually(t, func() bool {
				hookMu.Lock()
				defer hookMu.Unlock()
				lake := lakeRecords(t, filepath.Join(dir, "buckets", "lake"))
				missing = missing[:0]
				for id := range acked {
					if strings.HasPrefix(id, "lake-") && !lake[id] || strings.HasPrefix(id, "hook-") && !hooked[id] {
						missing = append(missing, id)
					}
				}
				return len(missing) == 0
			}, time.Minute, 50*time.Millisecond, "every acknowledged record is delivered: %d of %d are not, such as %.5q", len(missing), len(acked), missing)
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, cmd.Wait())
			break
		}
		// Put until a random number of batches were acknowledged, while
		// the server delivers, then kill it mid-flight.
		ackc := make(chan string, 1000)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, name := range []string{"lake", "hook"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var recs []types.Record
					var ids []string
					for j := range 1 + i%10 {
						id := fmt.Sprintf("%s-%d-%d-%d", name, round, i, j)
						ids = append(ids, id)
						recs = append(recs, types.Record{Data: []byte(id + "\n")})
					}
					out, err := c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: recs})
					if err != nil {
						return // the server is gone
					}
					for k, e := range out.RequestResponses {
						if e.ErrorCode == nil {
							ackc <- ids[k]
						}
					}
				}
			}()
		}
		go func() { wg.Wait(); close(ackc) }()
		want := 20 + r.IntN(200)
		for n := 0; n < want; n++ {
			id, ok := <-ackc
			require.True(t, ok, "the puts ended before the kill")
			acked[id] = true
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		close(stop)
		_ = cmd.Wait()
		for id := range ackc { // acknowledged before the kill landed
			acked[id] = true
		}
	}
	require.NotEmpty(t, acked)
	t.Logf("%d records acknowledged and delivered to both destinations", len(acked))
}

// startFirehoseServer starts shardlogd on dir's data and buckets and
// returns it with a Firehose client for it.
func startFirehoseServer(t *testing.T, bin, dir string) (*exec.Cmd, *firehose.Client) {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "data"), "-buckets", filepath.Join(dir, "buckets"),
		"-allow-http-endpoints", "-drain", "0s", "-log-level", "error")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	endpoint, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	endpoint = strings.TrimSpace(endpoint)
	require.Eventually(t, func() bool {
		resp, err := http.Get(endpoint + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 10*time.Millisecond)
	c := firehose.New(firehose.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext, DisableKeepAlives: true}}})
	return cmd, c
}

// lakeRecords returns the records in the bucket folder's objects; every
// line must be a whole record.
func lakeRecords(t *testing.T, lake string) map[string]bool {
	out := map[string]bool{}
	_ = filepath.WalkDir(lake, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if line == "" {
				continue
			}
			require.Regexp(t, `^lake-\d+-\d+-\d+\n$`, line, "a whole record in %s", path)
			out[strings.TrimSpace(line)] = true
		}
		return nil
	})
	return out
}

var ctx = context.Background()
