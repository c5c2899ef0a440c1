package firehoseapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/atomicfile"
)

// stateFile keeps the delivery streams' definitions under Config.Dir.
const stateFile = "deliverystreams.json"

// save writes the definitions, replacing the file atomically: a crash
// leaves the old definitions or the new ones. Call with mu held.
func (s *Server) save() error {
	if s.cfg.Dir == "" {
		return nil
	}
	defs := make([]definition, 0, len(s.streams))
	for _, d := range s.streams {
		defs = append(defs, d.def)
	}
	slices.SortFunc(defs, func(a, b definition) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(defs, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.cfg.Dir, stateFile), b, 0o600); err != nil {
		return fmt.Errorf("firehoseapi: keeping the delivery streams: %w", err)
	}
	return nil
}

// load starts the delivery streams kept under Dir, and deletes the
// records of direct-put ones a crash left without a definition.
func (s *Server) load() error {
	if s.cfg.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = []byte("[]"), nil
	}
	if err != nil {
		return err
	}
	var defs []definition
	if err := json.Unmarshal(b, &defs); err != nil {
		return fmt.Errorf("firehoseapi: %s is damaged: %w", filepath.Join(s.cfg.Dir, stateFile), err)
	}
	ctx := context.Background()
	for _, def := range defs {
		d := &deliveryStream{def: def}
		s.streams[def.Name] = d
		if def.Type == "DirectPut" {
			if _, err := s.store.Stream(shardlog.StreamRef{StreamName: def.Name}); errors.Is(err, shardlog.ErrResourceNotFound) {
				// Made, but its stream was not: nothing was put into it.
				_, err = s.store.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: def.Name, ShardCount: 1})
				if err != nil {
					return err
				}
			}
		}
		ds, err := s.deliveryStreamFor(&d.def)
		if err != nil {
			d.fail(s, err)
			continue
		}
		d.swap.Lock()
		d.run(s, ds)
		d.swap.Unlock()
	}
	var start string
	for {
		page, err := s.store.ListStreams(ctx, shardlog.ListStreamsInput{ExclusiveStartStreamName: start})
		if err != nil {
			return err
		}
		for _, name := range page.StreamNames {
			if _, ok := s.streams[name]; !ok {
				// Its definition was deleted, or never kept: a crash
				// between the two steps of Create or Delete.
				if err := s.store.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: name}}); err != nil {
					return err
				}
			}
			start = name
		}
		if !page.HasMoreStreams {
			return nil
		}
	}
}
