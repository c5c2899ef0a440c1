package shardlog

import (
	"errors"
	"path"
	"strconv"
	"strings"
)

// A stream's shards keep their files side by side in the stream's
// directory, each name prefixed with the shard's index ("7-0000000003.seg",
// "7-index"): one directory a stream rather than one a shard, whose blocks
// would cost an idle shard as much disk as its records. Stores written
// before kept each shard in a directory of its own
// (streams/<incarnation>/<shard index>/); such a shard stays there.

// streamDirEntry parses an entry of a stream's directory: the shard it
// belongs to and its name within the shard, or own for a shard's own
// directory. ok is false for a name no shard has.
func streamDirEntry(entry string) (index uint32, name string, own, ok bool) {
	num, name, prefixed := strings.Cut(entry, "-")
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != num || prefixed && name == "" {
		return 0, "", false, false // "07-index" is not shard 7's: its files are named "7-…"
	}
	return uint32(n), name, !prefixed, true
}

// streamListing is a stream's directory, read once when the account opens:
// the names of each shard's files, without the prefix, and the shards in a
// directory of their own.
type streamListing struct {
	names map[uint32][]string
	own   map[uint32]bool
}

// listStream reads stream inc's directory, creating it if it is missing
// (and the account writes).
func (st *store) listStream(inc uint32) (streamListing, error) {
	ls := streamListing{names: map[uint32][]string{}, own: map[uint32]bool{}}
	dir := st.streamDir(inc)
	entries, err := st.fs.ReadDir(dir)
	switch {
	case errors.Is(err, errNotExist):
		if !st.readOnly {
			err = st.fs.MkdirAll(dir)
		} else {
			err = nil
		}
		return ls, err
	case err != nil:
		return ls, err
	}
	for _, e := range entries {
		index, name, own, ok := streamDirEntry(e)
		switch {
		case !ok: // not a shard's: removeOrphans deals with it
		case own:
			ls.own[index] = true
		default:
			ls.names[index] = append(ls.names[index], name)
		}
	}
	return ls, nil
}

// shardNames returns the names of sf's files, moving sf to the shard's own
// directory if it has one.
func (st *store) shardNames(sf *shardFiles, ls streamListing) ([]string, error) {
	index := sf.hdr.Shard
	if !ls.own[index] {
		return ls.names[index], nil
	}
	sf.dir, sf.prefix = st.shardDir(sf.hdr.Stream, index), ""
	return st.fs.ReadDir(sf.dir)
}

// removeShardFiles deletes the files of a shard that is gone (its records
// expired). Leftovers of a failure are removed when the account next opens.
func (st *store) removeShardFiles(sf *shardFiles) error {
	if sf.prefix == "" {
		return st.fs.RemoveAll(sf.dir)
	}
	entries, err := st.fs.ReadDir(sf.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e, sf.prefix) {
			if err := st.fs.Remove(path.Join(sf.dir, e)); err != nil && !errors.Is(err, errNotExist) {
				return err
			}
		}
	}
	return nil
}
