package producer_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// aggVersion is the aws-kinesis-agg release from npm the tests run.
const aggVersion = "4.2.8"

// kinesisAgg installs aws-kinesis-agg from npm (once per machine, in the
// temporary directory) and returns a function that runs testdata's script
// with it, or skips the test where node or npm cannot be had.
func kinesisAgg(t *testing.T) func(mode string, in []byte) []byte {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the aws-kinesis-agg check needs node and npm", tool)
		}
	}
	dir := filepath.Join(os.TempDir(), "shardlog-test-aws-kinesis-agg-"+aggVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-kinesis-agg", "package.json")); err != nil {
		tmp, err := os.MkdirTemp(os.TempDir(), "shardlog-npm-")
		require.NoError(t, err)
		install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, "aws-kinesis-agg@"+aggVersion)
		if out, err := install.CombinedOutput(); err != nil {
			os.RemoveAll(tmp)
			t.Skipf("npm could not install aws-kinesis-agg@%s here: %v\n%s", aggVersion, err, out)
		}
		if err := os.Rename(tmp, dir); err != nil { // another run may have won
			os.RemoveAll(tmp)
		}
	}
	script, err := filepath.Abs(filepath.Join("testdata", "kinesis-agg.js"))
	require.NoError(t, err)
	return func(mode string, in []byte) []byte {
		cmd := exec.Command("node", script, mode)
		cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s", stderr.String())
		return out
	}
}

type nodeUserRecord struct {
	PartitionKey         string `json:"partitionKey"`
	ExplicitPartitionKey string `json:"explicitPartitionKey"`
	SequenceNumber       string `json:"sequenceNumber"`
	SubSequenceNumber    int64  `json:"subSequenceNumber"`
	Data                 string `json:"data"`
}

// TestThirdPartyDeaggregator: aws-kinesis-agg (npm) deaggregates what the
// producer aggregated into exactly the records put, numbered as their
// Results say.
func TestThirdPartyDeaggregator(t *testing.T) {
	run := kinesisAgg(t)
	_, s, clk := setup(t, 3)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true, AggregationMaxSize: 8192})
	results := map[string]*producer.Result{}
	hashKeys := map[string]string{}
	for i := range 600 {
		rec := producer.Record{PartitionKey: fmt.Sprintf("k%d", i%41), Data: []byte(fmt.Sprintf("record %d \x00\xff", i))}
		if i%5 == 0 {
			rec.ExplicitHashKey = fmt.Sprint(uint64(i) * 1_000_000_007)
		}
		r, err := p.PutRecord(ctx, rec)
		require.NoError(t, err)
		k := rec.PartitionKey + "/" + base64.StdEncoding.EncodeToString(rec.Data)
		results[k], hashKeys[k] = r, rec.ExplicitHashKey
	}
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	var lines bytes.Buffer
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		line, err := json.Marshal(map[string]string{"partitionKey": rec.PartitionKey, "sequenceNumber": rec.SequenceNumber.String(),
			"data": base64.StdEncoding.EncodeToString(rec.Data)})
		require.NoError(t, err)
		lines.Write(append(line, '\n'))
	}
	var users []nodeUserRecord
	require.NoError(t, json.Unmarshal(run("deagg", lines.Bytes()), &users))
	require.Len(t, users, len(results))
	seen := map[string]bool{}
	for _, u := range users {
		k := u.PartitionKey + "/" + u.Data
		r := results[k]
		require.NotNil(t, r, "%s: not a record put", k)
		require.False(t, seen[k], "%s twice", k)
		seen[k] = true
		require.Equal(t, r.SequenceNumber.String(), u.SequenceNumber, k)
		require.Equal(t, r.SubSequenceNumber, u.SubSequenceNumber, k)
		if hashKeys[k] != "" {
			require.Equal(t, hashKeys[k], u.ExplicitPartitionKey, k)
		}
	}
}

// TestThirdPartyAggregates: Deaggregate reads what aws-kinesis-agg
// aggregated, as the KCL would.
func TestThirdPartyAggregates(t *testing.T) {
	run := kinesisAgg(t)
	type in struct {
		PartitionKey    string `json:"partitionKey"`
		ExplicitHashKey string `json:"explicitHashKey,omitempty"`
		Data            string `json:"data"`
	}
	var records []in
	for i := range 300 {
		r := in{PartitionKey: fmt.Sprintf("key-%d", i%17), Data: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{byte(i)}, i%90))}
		if i%3 == 0 {
			r.ExplicitHashKey = fmt.Sprint(i)
		}
		records = append(records, r)
	}
	body, err := json.Marshal(records)
	require.NoError(t, err)
	var aggregates []in
	require.NoError(t, json.Unmarshal(run("agg", body), &aggregates))
	require.NotEmpty(t, aggregates)
	var got []shardlog.UserRecord
	for _, a := range aggregates {
		data, err := base64.StdEncoding.DecodeString(a.Data)
		require.NoError(t, err)
		got = shardlog.Deaggregate(got, shardlog.Record{PartitionKey: a.PartitionKey, Data: data})
	}
	require.Len(t, got, len(records))
	for i, u := range got {
		require.True(t, u.Aggregated, i)
		require.Equal(t, records[i].PartitionKey, u.PartitionKey, i)
		require.Equal(t, records[i].Data, base64.StdEncoding.EncodeToString(u.Data), i)
		require.Equal(t, records[i].ExplicitHashKey, u.ExplicitHashKey, i)
	}
}
