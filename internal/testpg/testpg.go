// Package testpg starts a PostgreSQL server of a test's own, on loopback,
// from Debian's postgresql package (or programs on $PATH), and skips the
// test, saying why, where there is none.
package testpg

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shardlog/shardlog/internal/pgbin"
)

// Start starts a server for the test, stopped when it ends, and returns
// its connection string (user postgres, database postgres, trust). As root
// it runs the server as the postgres user, which refuses root.
func Start(t testing.TB) string {
	t.Helper()
	initdb, pgctl := pgbin.Find("initdb"), pgbin.Find("pg_ctl")
	if initdb == "" || pgctl == "" {
		t.Skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql; .ci/run installs it)")
	}
	dir, err := os.MkdirTemp("", "shardlog-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		if os.Geteuid() == 0 {
			cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
	run(pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-o",
		fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off", port, dir), "start")
	t.Cleanup(func() { run(pgctl, "-D", data, "-m", "immediate", "stop") })
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}
