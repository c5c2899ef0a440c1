// Package atomicfile writes files whole or not at all: a crash at any
// moment leaves the old file or the new one, never a mix, and the new one
// is durable when Write returns.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file name with data: written to a hidden temporary
// file beside it, synced, given perm, renamed over name, and the folder
// synced so that the rename is durable too.
func Write(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
