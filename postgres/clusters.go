package postgres

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

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
	opts, err := copyOptions(c.CopyOptions)
	if err != nil {
		return nil, err
	}
	d := &Destination{ConnString: u.String(), Table: c.DataTableName, CopyOptions: opts, Staging: c.Staging}
	for _, col := range strings.Split(c.DataTableColumns, ",") {
		if col = strings.TrimSpace(col); col != "" {
			d.Columns = append(d.Columns, col)
		}
	}
	return d, nil
}

var (
	copyWord  = regexp.MustCompile(`(?i)^\s*(csv|gzip|ignoreheader\s+(?:as\s+)?1|delimiter\s+(?:as\s+)?'([^']*)'|null\s+as\s+'([^']*)')\s*`)
	copyQuote = strings.NewReplacer("'", "''")
)

// copyOptions turns Redshift COPY options into PostgreSQL's.
func copyOptions(redshift string) (string, error) {
	var out []string
	csv, header := false, false
	for s := strings.TrimSpace(redshift); s != ""; {
		m := copyWord.FindStringSubmatch(s)
		if m == nil {
			return "", fmt.Errorf("the COPY option %q has no PostgreSQL equivalent here (CSV, DELIMITER, NULL AS, IGNOREHEADER 1 and GZIP have)", s)
		}
		s = s[len(m[0]):]
		switch word := strings.ToLower(strings.Fields(m[1])[0]); word {
		case "csv":
			csv = true
		case "gzip": // the object's .gz says so
		case "ignoreheader":
			header = true
		case "delimiter":
			out = append(out, "DELIMITER '"+copyQuote.Replace(m[2])+"'")
		case "null":
			out = append(out, "NULL '"+copyQuote.Replace(m[3])+"'")
		}
	}
	if csv {
		out = append([]string{"FORMAT csv"}, out...)
	}
	if header {
		if !csv {
			return "", fmt.Errorf("IGNOREHEADER needs CSV here: PostgreSQL skips a header in CSV only")
		}
		out = append(out, "HEADER true")
	}
	return strings.Join(out, ", "), nil
}
