// Package testsize sizes the long-running tests (kills, power cuts, soaks):
// a number small enough for CI, smaller under -short, or the number an
// environment variable gives, for the long mode the README describes.
package testsize

import (
	"os"
	"strconv"
	"testing"
)

// Rounds is how many rounds a test runs: the value of the environment
// variable env if it is set, else short under -short, else ci. A value
// that is not a number fails the test.
func Rounds(t testing.TB, env string, ci, short int) int {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a count of rounds", env, v)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return ci
}
