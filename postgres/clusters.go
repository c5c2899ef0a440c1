package postgres

import (
	"fmt"
	"net/url"

	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehoseapi"
)

// Clusters maps Redshift clusters, by the JDBC URL delivery streams name
// them with, to PostgreSQL databases, by pgx connection string (URL form),
// so that a Firehose API server loads them as Firehose loads Redshift —
// staging each object in the S3 configuration's bucket, then COPY:
//
//	firehoseapi.Config{…, Redshift: postgres.Clusters{
//		"jdbc:redshift://examplecluster.abc123.us-east-1.redshift.amazonaws.com:5439/dev":
//			"postgres://127.0.0.1:5432/dev?sslmode=disable",
//	}.Destination}
//
// A connection string without a user takes the destination's Username and
// Password. Redshift's COPY options become PostgreSQL's where they mean
// the same (CSV, DELIMITER, NULL AS, IGNOREHEADER 1, GZIP, which the
// object's .gz already says); others are refused.
type Clusters map[string]string

// Destination makes the destination of a Redshift configuration: it is a
// firehoseapi.Config.Redshift.
func (cl Clusters) Destination(c firehoseapi.RedshiftConfig) (firehose.Destination, error) {
	conn, ok := cl[c.ClusterJDBCURL]
	if !ok {
		return nil, fmt.Errorf("no PostgreSQL database stands for the cluster %s", c.ClusterJDBCURL)
	}
	u, err := url.Parse(conn)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("the connection string for %s is not a postgres:// URL", c.ClusterJDBCURL)
	}
	if u.User == nil && c.Username != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	}
	opts, err := c.PostgresCopyOptions()
	if err != nil {
		return nil, err
	}
	return &Destination{ConnString: u.String(), Table: c.DataTableName, Columns: c.Columns(), CopyOptions: opts, Staging: c.Staging}, nil
}
