package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/atomicfile"
)

func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	require.NoError(t, atomicfile.Write(name, []byte("old"), 0o644))
	require.NoError(t, atomicfile.Write(name, []byte("new"), 0o600))
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	require.Equal(t, "new", string(b))
	fi, err := os.Stat(name)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

func TestWriteFailsIntoMissingFolder(t *testing.T) {
	name := filepath.Join(t.TempDir(), "missing", "state.json")
	require.Error(t, atomicfile.Write(name, []byte("x"), 0o644))
	_, err := os.Stat(name)
	require.ErrorIs(t, err, os.ErrNotExist)
}
