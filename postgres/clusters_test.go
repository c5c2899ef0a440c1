package postgres_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
	"github.com/shardlog/shardlog/postgres"
)

const cluster = "jdbc:redshift://examplecluster.abc123.us-east-1.redshift.amazonaws.com:5439/dev"

// TestRedshiftThroughTheAPI: a delivery stream made through Firehose's
// API with a Redshift destination, on a server whose Redshift cluster is
// a real PostgreSQL server, stages its objects in the bucket and loads
// them with COPY, Redshift's COPY options turned into PostgreSQL's.
func TestRedshiftThroughTheAPI(t *testing.T) {
	conn := startPostgres(t)
	db, err := pgx.Connect(t.Context(), conn)
	require.NoError(t, err)
	defer db.Close(t.Context())
	_, err = db.Exec(t.Context(), `CREATE TABLE events (id int, name text)`)
	require.NoError(t, err)

	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	buckets := t.TempDir()
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: buckets, UnsignedRequests: true, Logger: quiet,
		Redshift: postgres.Clusters{cluster: conn}.Destination})
	require.NoError(t, err)
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	call := func(op, body string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Amz-Target", "Firehose_20150804."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", op, b)
		return string(b)
	}
	call("CreateDeliveryStream", `{"DeliveryStreamName":"to-pg","RedshiftDestinationConfiguration":{
		"RoleARN":"arn:aws:iam::123456789012:role/r","ClusterJDBCURL":"`+cluster+`",
		"CopyCommand":{"DataTableName":"events","DataTableColumns":"id, name","CopyOptions":"CSV IGNOREHEADER 1"},
		"Username":"postgres","Password":"unused-here",
		"S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::staging","Prefix":"loads/",
			"BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},"CompressionFormat":"GZIP"}}}`)
	var desc struct {
		DeliveryStreamDescription struct {
			Destinations []struct {
				RedshiftDestinationDescription struct {
					ClusterJDBCURL string
					Password       *string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(call("DescribeDeliveryStream", `{"DeliveryStreamName":"to-pg"}`)), &desc))
	rs := desc.DeliveryStreamDescription.Destinations[0].RedshiftDestinationDescription
	require.Equal(t, cluster, rs.ClusterJDBCURL)
	require.Nil(t, rs.Password, "the password is never described")

	call("PutRecordBatch", `{"DeliveryStreamName":"to-pg","Records":[{"Data":"`+b64("id,name\n1,one\n2,two\n")+`"}]}`)
	var n int
	require.Eventually(t, func() bool {
		clk.Advance(10 * time.Second)
		return db.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&n) == nil && n == 2
	}, 30*time.Second, 10*time.Millisecond)
	var names string
	require.NoError(t, db.QueryRow(t.Context(), `SELECT string_agg(name, ',' ORDER BY id) FROM events`).Scan(&names))
	require.Equal(t, "one,two", names)
	staged, _ := filepath.Glob(filepath.Join(buckets, "staging", "loads", "2026", "03", "01", "12", "to-pg-1-*.gz"))
	require.Len(t, staged, 1, "the object is staged in the bucket before the COPY")
	_, err = os.Stat(staged[0])
	require.NoError(t, err)
}

// TestClustersRefuse: an unknown cluster and a Redshift COPY option
// PostgreSQL has no word for are refused when the delivery stream is made.
func TestClustersRefuse(t *testing.T) {
	cl := postgres.Clusters{cluster: "postgres://127.0.0.1:1/dev"}
	_, err := cl.Destination(firehoseapi.RedshiftConfig{ClusterJDBCURL: "jdbc:redshift://other.x.us-east-1.redshift.amazonaws.com:5439/dev"})
	require.ErrorContains(t, err, "no PostgreSQL database stands for the cluster")
	_, err = cl.Destination(firehoseapi.RedshiftConfig{ClusterJDBCURL: cluster, DataTableName: "t", CopyOptions: "json 'auto'"})
	require.ErrorContains(t, err, `the COPY option "json 'auto'" has no PostgreSQL equivalent`)
	_, err = cl.Destination(firehoseapi.RedshiftConfig{ClusterJDBCURL: cluster, DataTableName: "t", CopyOptions: "IGNOREHEADER 1"})
	require.ErrorContains(t, err, "IGNOREHEADER needs CSV")
	d, err := cl.Destination(firehoseapi.RedshiftConfig{ClusterJDBCURL: cluster, DataTableName: "t", CopyOptions: "csv delimiter '|' null as 'N' gzip"})
	require.NoError(t, err)
	require.Equal(t, "FORMAT csv, DELIMITER '|', NULL 'N'", d.(*postgres.Destination).CopyOptions)
}

var quiet = slog.New(slog.DiscardHandler)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
