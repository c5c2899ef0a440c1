package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
)

// TestBinaryGarbage: a file of random bytes (NULs, invalid UTF-8, lines of
// any length) is sent byte for byte: each stretch up to a newline is a
// record, and the last, without one, after its wait.
func TestBinaryGarbage(t *testing.T) {
	r := newRig(t, basic)
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 256<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	r.write("app.log", string(garbage))
	for range 3 {
		r.sync()
		r.clk.Advance(5 * time.Second)
	}
	r.sync()
	var want []string
	for rest := garbage; len(rest) > 0; {
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		want = append(want, string(rest[:n]))
		rest = rest[n:]
	}
	require.ElementsMatch(t, want, r.lines())
	require.Zero(t, r.agent.Totals().LagBytes)
}

// TestInvalidUTF8: a raw line keeps its bytes; JSON made of one by a
// processing option is valid JSON, the bad bytes replaced by U+FFFD.
func TestInvalidUTF8(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "caf\xe9 \xff\xfe ok\n")
	r.sync()
	require.Equal(t, []string{"caf\xe9 \xff\xfe ok\n"}, r.lines())

	got := process(t, `[{"optionName": "CSVTOJSON", "customFieldNames": ["a", "b"]}]`, "caf\xe9,\xff\n")
	require.True(t, json.Valid([]byte(got)), "%q", got)
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(got), &v))
	require.Equal(t, map[string]string{"a": "caf\uFFFD", "b": "\uFFFD"}, v)

	got = process(t, `[{"optionName": "LOGTOJSON", "logFormat": "SYSLOG"}]`, "Mar  1 12:00:00 host app[1]: bad \xc3\x28 byte\n")
	require.True(t, json.Valid([]byte(got)), "%q", got)
	require.NoError(t, json.Unmarshal([]byte(got), &v))
	require.Equal(t, "bad \uFFFD( byte", v["message"])
}

// TestMissingStream: a flow whose stream does not exist stops New with an
// error that names the stream and matches ErrResourceNotFound.
func TestMissingStream(t *testing.T) {
	cfg, err := agent.ParseConfig([]byte(`{"checkpointFile": "` + t.TempDir() + `/checkpoints",
	  "flows": [{"filePattern": "/var/log/app.log", "kinesisStream": "nowhere"}]}`))
	require.NoError(t, err)
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	_, err = agent.New(ctx, cfg, func(_ context.Context, name string) (shardlog.StreamAPI, error) {
		return acct.Stream(shardlog.StreamRef{StreamName: name})
	}, agent.Options{Logger: quiet})
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)
	require.ErrorContains(t, err, "nowhere")
}
