// Package testchild runs a test of the running test binary in a child
// process, for the tests that kill a process with SIGKILL and look at what
// it left: the child reports what it did as lines on its standard output.
package testchild

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Child is a test running in a child process.
type Child struct {
	Cmd *exec.Cmd
	// Lines are the lines the child prints on its standard output,
	// closed once it has closed it (exited).
	Lines <-chan string
}

// Start runs the test named test of this test binary in a child process,
// with env added to its environment and its standard error the parent's.
func Start(t testing.TB, test string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out) // past a line too long to scan
	}()
	return &Child{Cmd: cmd, Lines: lines}
}

// Kill kills the child at once (SIGKILL on Unix), hands rest each line it
// printed before it died (nil: none matter), and reaps it.
func (c *Child) Kill(t testing.TB, rest func(line string)) {
	t.Helper()
	if err := c.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait(rest)
}

// Wait hands each every line the child prints (nil: none matter) until it
// exits, and returns how it exited.
func (c *Child) Wait(each func(line string)) error {
	for line := range c.Lines {
		if each != nil {
			each(line)
		}
	}
	return c.Cmd.Wait()
}
