package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/pgbin"
	"github.com/shardlog/shardlog/internal/testpg"
)

// TestRedshiftCluster: with -redshift-cluster, a delivery stream made
// through Firehose's API with a Redshift destination loads a real
// PostgreSQL server, with psql's \copy, as Firehose loads Redshift.
func TestRedshiftCluster(t *testing.T) {
	psql := pgbin.Find("psql")
	if psql == "" {
		t.Skip("psql is not installed (Debian: apt-get install postgresql-client; .ci/run installs postgresql)")
	}
	conn := testpg.Start(t)
	sql := func(q string) string {
		t.Helper()
		out, err := exec.Command(psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conn, "-c", q).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	sql(`CREATE TABLE events (id int, "the name" text)`)
	const cluster = "jdbc:redshift://examplecluster.abc123.us-east-1.redshift.amazonaws.com:5439/dev"
	endpoint, _, stop := serveLogged(t, "-log-level", "error", "-buckets", t.TempDir(), "-redshift-cluster", cluster+"="+conn)
	defer func() { require.NoError(t, stop()) }()
	c := firehose.New(firehose.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1})
	_, err := c.CreateDeliveryStream(context.Background(), &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("to-db"),
		RedshiftDestinationConfiguration: &fhtypes.RedshiftDestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), ClusterJDBCURL: aws.String(cluster),
			CopyCommand: &fhtypes.CopyCommand{DataTableName: aws.String("events"), DataTableColumns: aws.String(`id,the name`), CopyOptions: aws.String("CSV GZIP")},
			Username:    aws.String("postgres"), Password: aws.String("not-used"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::staging"),
				CompressionFormat: fhtypes.CompressionFormatGzip, BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}},
		}})
	require.NoError(t, err)
	_, err = c.PutRecordBatch(context.Background(), &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("to-db"),
		Records: []fhtypes.Record{{Data: []byte("1,\"one, with a comma\"\n")}, {Data: []byte("2,two\n")}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sql(`SELECT count(*) FROM events`) == "2" }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "one, with a comma|two", sql(`SELECT string_agg("the name", '|' ORDER BY id) FROM events`))

	_, err = c.CreateDeliveryStream(context.Background(), &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("elsewhere"),
		RedshiftDestinationConfiguration: &fhtypes.RedshiftDestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), ClusterJDBCURL: aws.String("jdbc:redshift://other.abc123.us-east-1.redshift.amazonaws.com:5439/dev"),
			CopyCommand:     &fhtypes.CopyCommand{DataTableName: aws.String("events")},
			S3Configuration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::staging")},
		}})
	var bad *fhtypes.InvalidArgumentException
	require.ErrorAs(t, err, &bad)
	require.Contains(t, *bad.Message, "no PostgreSQL database stands for the cluster")
}
