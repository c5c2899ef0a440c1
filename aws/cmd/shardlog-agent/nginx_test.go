//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testsize"

	"github.com/shardlog/shardlog"
)

// accessLine is a line of nginx's combined log format for one of the
// load's requests.
var accessLine = regexp.MustCompile(`^127\.0\.0\.1 - - \[[^\]]+\] "GET /(?:req/(\d+))? HTTP/1\.1" 200 3 "-" "(?:shardlog-test|Go-http-client/1\.1)"\n$`)

// TestNginxAndLogrotate ships a real nginx's access log, rotated by a real
// logrotate in each of its ways (rename and create with a signal to nginx
// to reopen, copytruncate, and deletion of the oldest), through
// shardlog-agent into shardlogd -data, killing the agent with SIGKILL at
// random again and again. Every request nginx logged is in the stream, at
// least once, whole, and nothing else is.
func TestNginxAndLogrotate(t *testing.T) {
	nginx, logrotate := lookPath("nginx"), lookPath("logrotate")
	if nginx == "" || logrotate == "" {
		t.Skip("nginx and logrotate are not installed (Debian: apt-get install nginx-light logrotate; .ci/run installs them)")
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	bin := buildBinaries(t, dir)
	ctx := t.Context()

	// shardlogd, durable, with a stream for the log.
	kinesisAddr := freeAddr(t)
	shardlogd := start(t, filepath.Join(bin, "shardlogd"), "-addr", kinesisAddr, "-data", filepath.Join(dir, "data"), "-limits=false", "-drain", "0s")
	awaitHTTP(t, "http://"+kinesisAddr+"/readyz")
	client := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: sdk.String("http://" + kinesisAddr),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	_, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: sdk.String("access"), ShardCount: sdk.Int32(2)})
	require.NoError(t, err)

	// nginx, logging every request.
	webAddr := freeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	user := "" // workers as root, as the test's directory is its own
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `daemon off; %[3]s
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log %[1]s/logs/access.log combined;
  client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp; fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  server { listen %[2]s; location / { return 200 "ok\n"; } }
}
`, dir, webAddr, user), 0o644))
	web := start(t, nginx, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	awaitHTTP(t, "http://"+webAddr+"/")

	// logrotate, in two ways: rename and create, then USR1 to nginx to
	// reopen its log; or copytruncate. Both keep five old files and
	// delete the oldest.
	rotateConf := map[string]string{}
	for _, how := range []string{"create", "copytruncate"} {
		extra := "create 0644\n  postrotate\n    kill -USR1 $(cat " + dir + "/nginx.pid)\n  endscript"
		if how == "copytruncate" {
			extra = "copytruncate"
		}
		rotateConf[how] = filepath.Join(dir, "logrotate-"+how+".conf")
		require.NoError(t, os.WriteFile(rotateConf[how], fmt.Appendf(nil, "%s/access.log {\n  rotate 5\n  missingok\n  %s\n}\n", logs, extra), 0o644))
	}

	// The load: requests one after another, at about 1 000 a second; a
	// copytruncate rotation holds it, as lines written between logrotate's
	// copy and its truncation are lost by logrotate, not by the agent.
	var hold sync.Mutex
	requests, failed, stopLoad := 0, map[int]bool{}, make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		hc := &http.Client{Timeout: 5 * time.Second}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			hold.Lock()
			for range 10 {
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/req/%d", webAddr, requests), nil)
				req.Header.Set("User-Agent", "shardlog-test")
				resp, err := hc.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				} else {
					failed[requests] = true // nginx may or may not have logged it
				}
				requests++
			}
			hold.Unlock()
		}
	}()
	rotations := map[string]int{}
	rotate := func(r *rand.Rand) {
		how := "create"
		if r.IntN(2) == 0 {
			how = "copytruncate"
			hold.Lock()
			defer hold.Unlock()
		}
		out, err := exec.Command(logrotate, "-f", "-s", filepath.Join(dir, "logrotate.state"), rotateConf[how]).CombinedOutput()
		require.NoError(t, err, "logrotate: %s", out)
		rotations[how]++
	}

	config := filepath.Join(dir, "agent.json")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `{"kinesis.endpoint": "http://%s", "awsAccessKeyId": "AKID", "awsSecretAccessKey": "SECRET",
	  "checkpointFile": %q, "log.statusReportingPeriodSeconds": 1,
	  "flows": [{"filePattern": %q, "kinesisStream": "access", "initialPosition": "START_OF_FILE",
	    "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 20}]}`,
		kinesisAddr, filepath.Join(dir, "checkpoints"), filepath.Join(logs, "access.log*")), 0o644))

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 26))
	for range testsize.Rounds(t, "SHARDLOG_AGENT_KILLS", 20, 5) {
		sent := make(chan struct{})
		agentProc := startWith(t, func(stderr io.Reader) {
			sc := bufio.NewScanner(stderr)
			for once := false; sc.Scan(); {
				if !once && strings.Contains(sc.Text(), "agent: status") && field(sc.Text(), "sent") != "0" {
					close(sent)
					once = true
				}
			}
		}, filepath.Join(bin, "shardlog-agent"), "-c", config)
		if r.IntN(2) == 0 {
			rotate(r)
		}
		// Kill it once it has sent something, a random while after.
		select {
		case <-sent:
		case <-time.After(30 * time.Second):
			t.Fatal("the agent sent nothing in 30 s")
		}
		time.Sleep(time.Duration(r.IntN(300)) * time.Millisecond) // the kill's random moment
		if r.IntN(3) == 0 {
			rotate(r)
		}
		require.NoError(t, agentProc.Process.Signal(syscall.SIGKILL))
		_ = agentProc.Wait()
	}
	close(stopLoad)
	<-loadDone
	rotate(r)

	// A last agent sends what is left, and stops on SIGTERM.
	status := make(chan string, 16)
	last := startWith(t, func(stderr io.Reader) {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "agent: status") {
				select {
				case status <- sc.Text():
				default:
				}
			}
		}
	}, filepath.Join(bin, "shardlog-agent"), "-c", config)
	deadline := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case line := <-status:
			t.Log(line)
			done = strings.Contains(line, " lag_bytes=0") && strings.Contains(line, " parsed=") &&
				field(line, "parsed") == field(line, "sent")
		case <-deadline:
			t.Fatal("the last agent did not catch up in a minute")
		}
	}
	require.NoError(t, last.Process.Signal(syscall.SIGTERM))
	require.NoError(t, last.Wait())
	require.NoError(t, web.Process.Signal(syscall.SIGQUIT))
	_ = web.Wait()
	require.NoError(t, shardlogd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, shardlogd.Wait())

	ls, _ := exec.Command("sh", "-c", "ls -la "+logs+"; cat "+dir+"/error.log").CombinedOutput()
	t.Logf("%s", ls)
	// nginx's own record of what it logged: the requests that reached it.
	logged := map[int]bool{}
	for n := range requests {
		logged[n] = false
	}
	acct, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "access"})
	require.NoError(t, err)
	records := 0
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		m := accessLine.FindSubmatch(rec.Data)
		require.NotNil(t, m, "a whole line nginx wrote: %q", rec.Data)
		if len(m[1]) == 0 {
			continue // the test's wait for nginx to start
		}
		n, _ := strconv.Atoi(string(m[1]))
		_, asked := logged[n]
		require.True(t, asked, "a request the load made: %q", rec.Data)
		logged[n] = true
		records++
	}
	var missing []int
	for n := range requests {
		if !logged[n] && !failed[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d requests nginx logged are not in the stream, from %d to %d: %v", len(missing), requests, missing[0], missing[len(missing)-1], missing[:min(len(missing), 20)])
	}
	require.Positive(t, rotations["create"])
	require.Positive(t, rotations["copytruncate"])
	require.Greater(t, rotations["create"]+rotations["copytruncate"], 5, "logrotate deleted files")
	t.Logf("%d requests (%d failed), %d records, rotations %v", requests, len(failed), records, rotations)
}

// lookPath finds a program on $PATH or in /usr/sbin, where Debian puts
// nginx and logrotate; "" if it is in neither.
func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p, err := exec.LookPath(filepath.Join("/usr/sbin", name)); err == nil {
		return p
	}
	return ""
}

// field is the value of key=value in a slog text line.
func field(line, key string) string {
	_, v, _ := strings.Cut(line, " "+key+"=")
	v, _, _ = strings.Cut(v, " ")
	return v
}

// buildBinaries builds shardlogd and shardlog-agent into dir/bin.
func buildBinaries(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	for _, b := range [][]string{
		{"build", "-o", filepath.Join(bin, "shardlog-agent"), "."},
		{"build", "-C", "../../..", "-o", filepath.Join(bin, "shardlogd"), "./cmd/shardlogd"},
	} {
		out, err := exec.Command("go", b...).CombinedOutput()
		require.NoError(t, err, "go %v: %s", b, out)
	}
	return bin
}

// start starts a program whose output is discarded; it is killed when the
// test ends, if it has not ended before.
func start(t *testing.T, name string, args ...string) *exec.Cmd {
	return startWith(t, func(r io.Reader) { _, _ = io.Copy(io.Discard, r) }, name, args...)
}

// startWith starts a program whose standard error goes to read.
func startWith(t *testing.T, read func(io.Reader), name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go read(stderr)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// freeAddr is a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// awaitHTTP waits until url answers 200.
func awaitHTTP(t *testing.T, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 10*time.Millisecond)
}
