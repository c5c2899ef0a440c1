// Package pgbin finds PostgreSQL's programs: on $PATH, or where Debian's
// postgresql packages put them.
package pgbin

import (
	"os/exec"
	"path/filepath"
)

// Find returns the path of the program name, or "".
func Find(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return ""
}
