package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/shardlog/shardlog/internal/atomicfile"
)

// checkpoints are how far each flow has its files acknowledged, by flow ID.
type checkpoints map[string][]fileCheckpoint

// fileCheckpoint says that every record of a file before Offset is
// acknowledged.
type fileCheckpoint struct {
	Path   string `json:"path"`
	ID     fileID `json:"id"`
	Offset int64  `json:"offset"`
}

// checkpointFormat is the version of the checkpoint file's format.
const checkpointFormat = 1

type checkpointFile struct {
	Format int         `json:"format"`
	Flows  checkpoints `json:"flows"`
}

// loadCheckpoints reads the checkpoint file; a missing one is empty.
func loadCheckpoints(name string) (checkpoints, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoints{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("agent: checkpoint file %s: %w", name, err)
	}
	if f.Format != checkpointFormat {
		return nil, fmt.Errorf("agent: checkpoint file %s has format %d, not %d", name, f.Format, checkpointFormat)
	}
	if f.Flows == nil {
		f.Flows = checkpoints{}
	}
	return f.Flows, nil
}

// save writes the checkpoints durably: to a new file, synced, renamed over
// the old one, and the directory synced, so that a crash leaves the old
// checkpoints or the new, whole.
func (c checkpoints) save(name string) error {
	b, err := json.Marshal(checkpointFile{Format: checkpointFormat, Flows: c})
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(name, b, 0o644)
}
