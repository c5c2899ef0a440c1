// Package postgres delivers a delivery stream's objects (package
// firehose) into a PostgreSQL table, as Firehose's Redshift destination
// does: each object is staged — written to a staging Destination, a folder
// or an S3 bucket — and then loaded with COPY. Clusters does the same for
// the Redshift destinations of delivery streams made through Firehose's
// API (package firehoseapi).
//
// It is a module of its own, so that shardlog's core keeps the design
// card's dependencies; the PostgreSQL driver (pgx) comes with this module
// only.
package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/internal/pgcopy"
)

// Destination is a firehose.Destination that loads each object into a
// table with COPY … FROM STDIN: the object's lines are the table's rows,
// in the format CopyOptions gives (PostgreSQL's COPY options, such as
// "FORMAT csv" or "FORMAT csv, HEADER false"; the default is COPY's text
// format). A gzipped object (GZIP compression) is unzipped first. A COPY
// that fails loads nothing, and the delivery stream retries the object;
// delivery is at least once, so a row may be loaded twice around a crash.
type Destination struct {
	// ConnString is pgx's connection string, e.g.
	// "postgres://user@127.0.0.1:5432/db?sslmode=disable".
	ConnString string
	// Table is the table loaded, optionally schema-qualified
	// ("schema.table"); Columns, if set, are the columns the rows fill,
	// in order (Firehose's DataTableColumns).
	Table   string
	Columns []string
	// CopyOptions go into COPY's WITH (…) (Firehose's CopyOptions).
	CopyOptions string
	// Staging, if set, gets each object, under its key, before the COPY,
	// as Firehose stages Redshift's loads in S3.
	Staging firehose.Destination

	mu   sync.Mutex
	conn *pgx.Conn
}

// Put stages the object, then loads it.
func (d *Destination) Put(ctx context.Context, key string, body []byte) error {
	if d.Table == "" {
		return errors.New("postgres: Destination.Table is required")
	}
	if d.Staging != nil {
		if err := d.Staging.Put(ctx, key, body); err != nil {
			return fmt.Errorf("postgres: staging %s: %w", key, err)
		}
	}
	body, err := firehose.Decompress(key, body)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", key, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil || d.conn.IsClosed() {
		conn, err := pgx.Connect(ctx, d.ConnString)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		d.conn = conn
	}
	if _, err := d.conn.PgConn().CopyFrom(ctx, bytes.NewReader(body), d.copySQL()); err != nil {
		if d.conn.IsClosed() || ctx.Err() != nil { // a COPY cut short leaves the connection unusable
			closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = d.conn.Close(closing)
			cancel()
			d.conn = nil
		}
		return fmt.Errorf("postgres: loading %s into %s: %w", key, d.Table, err)
	}
	return nil
}

// copySQL is the COPY statement, its names quoted.
func (d *Destination) copySQL() string { return pgcopy.Statement(d.Table, d.Columns, d.CopyOptions) }

// Close closes the connection, if one is open.
func (d *Destination) Close(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close(ctx)
	d.conn = nil
	return err
}
