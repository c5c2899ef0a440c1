package firehose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shardlog/shardlog/internal/atomicfile"
)

// Destination stores delivered objects. Put must be durable when it
// returns nil; an error has the object retried (see Config.RetryDuration).
// The same key may come twice, after a crash: it must then replace. body
// is the delivery stream's buffer, reused once Put returns: copy what is
// kept.
type Destination interface {
	Put(ctx context.Context, key string, body []byte) error
}

// Dir is a Destination that writes objects as files under a directory,
// the key's slashes making folders: Dir(filepath.Join(root, bucket)) is
// an S3 bucket in a folder. Each file is written whole or not at all
// (written to a temporary name, synced, renamed, its folder synced).
type Dir string

// Put writes body to the file the key names.
func (d Dir) Put(_ context.Context, key string, body []byte) error {
	if !validKey(key) {
		return fmt.Errorf("firehose: key %q does not name a file under a folder", key)
	}
	name := filepath.Join(string(d), filepath.FromSlash(key))
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(name, body, 0o644)
}

// CheckKey refuses a key that names no file under the folder, so that a
// delivery stream with such a prefix is refused when made (see
// KeyChecker).
func (d Dir) CheckKey(key string) error {
	if !validKey(key) {
		return fmt.Errorf("key %q does not name a file under a folder", key)
	}
	return nil
}

// validKey reports whether key names a file under a folder: not empty, not
// absolute, no "." or ".." step.
func validKey(key string) bool {
	return key != "" && !strings.HasPrefix(key, "/") && !strings.Contains("/"+key+"/", "/../") && !strings.Contains("/"+key+"/", "/./")
}
