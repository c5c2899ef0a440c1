package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehoseapi"
	"github.com/shardlog/shardlog/internal/pgcopy"
)

// clusters stand PostgreSQL databases in for Redshift clusters
// (-redshift-cluster JDBC=postgres://…), loaded with PostgreSQL's own psql:
// shardlogd carries no database driver.
type clusters struct {
	dbs  map[string]string // connection string by JDBC URL
	psql string
}

// destination makes a delivery stream's Redshift destination: it is a
// firehoseapi.Config.Redshift.
func (cl clusters) destination(c firehoseapi.RedshiftConfig) (firehose.Destination, error) {
	conn, ok := cl.dbs[c.ClusterJDBCURL]
	if !ok {
		return nil, fmt.Errorf("no PostgreSQL database stands for the cluster %s (-redshift-cluster)", c.ClusterJDBCURL)
	}
	u, _ := url.Parse(conn) // checked by the flag
	if u.User == nil && c.Username != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	}
	opts, err := c.PostgresCopyOptions()
	if err != nil {
		return nil, err
	}
	if c.DataTableName == "" {
		return nil, errors.New("the COPY command names no table")
	}
	return &psqlLoad{psql: cl.psql, conn: u.String(), sql: copyCommand(c.DataTableName, c.Columns(), opts), staging: c.Staging}, nil
}

// copyCommand is psql's \copy of table from its standard input.
func copyCommand(table string, columns []string, opts string) string {
	return `\copy` + strings.TrimPrefix(pgcopy.Statement(table, columns, opts), "COPY")
}

// psqlLoad stages each object, then loads it with psql's \copy: all of it
// or, if psql fails, none, and the delivery stream tries again.
type psqlLoad struct {
	psql, conn, sql string
	staging         firehose.Destination
}

func (p *psqlLoad) Put(ctx context.Context, key string, body []byte) error {
	if err := p.staging.Put(ctx, key, body); err != nil {
		return fmt.Errorf("staging %s: %w", key, err)
	}
	body, err := firehose.Decompress(key, body)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	cmd := exec.CommandContext(ctx, p.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", p.conn, "-c", p.sql)
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("loading %s: psql: %w: %s", key, err, bytes.TrimSpace(out))
	}
	return nil
}
