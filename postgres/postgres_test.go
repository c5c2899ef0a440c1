package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehose/firehosetest"
	"github.com/shardlog/shardlog/internal/testpg"
	"github.com/shardlog/shardlog/postgres"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startPostgres starts a PostgreSQL server of the test's own.
func startPostgres(t *testing.T) string { return testpg.Start(t) }

// TestLoadsWithCopy: delivered objects are staged, then loaded into a
// table of a real PostgreSQL server with COPY, gzipped or not.
func TestLoadsWithCopy(t *testing.T) {
	conn := startPostgres(t)
	db, err := pgx.Connect(t.Context(), conn)
	require.NoError(t, err)
	defer db.Close(context.Background())
	_, err = db.Exec(t.Context(), `CREATE TABLE events (id int, name text)`)
	require.NoError(t, err)

	for _, c := range []firehose.Compression{firehose.Uncompressed, firehose.GZIP} {
		staging := t.TempDir()
		dest := &postgres.Destination{ConnString: conn, Table: "public.events", Columns: []string{"id", "name"},
			CopyOptions: "FORMAT csv", Staging: firehose.Dir(staging)}
		firehosetest.Deliver(t, firehose.Config{Name: "events", Logger: slog.New(slog.DiscardHandler), Destination: dest, Compression: c}, []string{"1,one\n", "2,\"two, too\"\n", "3,three\n"},
			func(tot firehose.Totals) bool { return tot.DeliveredRecords == 3 })
		require.NoError(t, dest.Close(t.Context()))
		staged, err := filepath.Glob(filepath.Join(staging, "*", "*", "*", "*", "events-1-*"))
		require.NoError(t, err)
		require.Len(t, staged, 1, "the object was staged before its COPY")
	}
	rows, err := db.Query(t.Context(), `SELECT id, name FROM events ORDER BY id, name`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var id int
		var name string
		require.NoError(t, rows.Scan(&id, &name))
		got = append(got, fmt.Sprint(id, ":", name))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"1:one", "1:one", "2:two, too", "2:two, too", "3:three", "3:three"}, got)
}

// TestFailedLoadsGoToBackup: rows the table refuses, and a server that is
// not there, fail the COPY; past the retry duration the objects go to the
// backup, nothing dropped and nothing half-loaded.
func TestFailedLoadsGoToBackup(t *testing.T) {
	conn := startPostgres(t)
	db, err := pgx.Connect(t.Context(), conn)
	require.NoError(t, err)
	defer db.Close(context.Background())
	_, err = db.Exec(t.Context(), `CREATE TABLE strict (id int)`)
	require.NoError(t, err)

	for name, dest := range map[string]*postgres.Destination{
		"a bad row":     {ConnString: conn, Table: "strict", CopyOptions: "FORMAT csv"},
		"no server":     {ConnString: "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1", Table: "strict"},
		"no such table": {ConnString: conn, Table: "missing"},
	} {
		t.Run(name, func(t *testing.T) {
			backup := t.TempDir()
			firehosetest.Deliver(t, firehose.Config{Name: "events", Logger: slog.New(slog.DiscardHandler), Destination: dest, Backup: firehose.Dir(backup), RetryDuration: time.Second},
				[]string{"1\n", "not a number\n"}, func(tot firehose.Totals) bool { return tot.BackedUp == 1 })
			require.NoError(t, dest.Close(t.Context()))
			matches, err := filepath.Glob(filepath.Join(backup, "delivery-failed", "*", "*", "*", "*", "events-1-*"))
			require.NoError(t, err)
			require.Len(t, matches, 1)
			b, err := os.ReadFile(matches[0])
			require.NoError(t, err)
			require.Equal(t, "1\nnot a number\n", string(b))
		})
	}
	var n int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT count(*) FROM strict`).Scan(&n))
	require.Zero(t, n, "a failed COPY loads nothing")
}
