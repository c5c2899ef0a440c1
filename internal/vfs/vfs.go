// Package vfs is the narrow file-system interface of the durable store, with
// two implementations: OS, on the operating system's files, and MemFS, a
// strict in-memory file system for crash tests that forgets, when "the power
// fails", everything that was not synced, and can fail chosen operations
// with ENOSPC, EIO or a read-only file system.
//
// The store writes a segment through a shared writable mapping (File.Map) of
// a file whose blocks it reserved first (File.Allocate): writes then cost a
// memory copy, survive the process being killed (the kernel owns the
// pages), and cannot fail for want of space after the reservation. Sync
// makes them durable.
package vfs

import (
	"errors"
	"io"
)

// FS is a file system. Names are slash-separated paths. Implementations are
// safe for concurrent use.
type FS interface {
	// Create creates a file for reading and writing, or truncates it.
	Create(name string) (File, error)
	// Open opens an existing file for reading and writing.
	Open(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes a directory and everything in it; a missing one is
	// no error.
	RemoveAll(name string) error
	// Rename renames a file, replacing any file of the new name.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its missing parents.
	MkdirAll(name string) error
	// ReadDir lists a directory's entries, sorted by name.
	ReadDir(name string) ([]string, error)
	// SyncDir makes a directory's entries (creations, renames, removals)
	// durable.
	SyncDir(name string) error
	// Lock takes an exclusive lock on the named file, creating it, without
	// waiting: ErrLocked if another holder has it (in this process or
	// another). Closing the returned Closer releases it.
	Lock(name string) (io.Closer, error)
}

// File is an open file.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Sync makes the file's data and size durable (fdatasync).
	Sync() error
	// Truncate sets the file's size; bytes past the old size read as zero.
	Truncate(size int64) error
	// Allocate reserves disk space for [0, size) and extends the file to
	// size if it is shorter, so that later writes there cannot fail for
	// want of space.
	Allocate(size int64) error
	// Size returns the file's size.
	Size() (int64, error)
	// Map returns a shared writable mapping of [0, size): writing to it
	// writes the file. The file must be at least size long. The mapping
	// lasts until Close; at most one per file.
	Map(size int) ([]byte, error)
	// SyncMapped makes [off, off+n) of the mapping durable (msync), as
	// Sync would. Writes elsewhere in the mapping may go on meanwhile. The
	// pages it covers wholly may leave the mapping, to be mapped again if
	// touched: it suits appends, which have moved past them.
	SyncMapped(off, n int) error
	// Close unmaps the file and closes it.
	Close() error
}

// ErrLocked is returned by Lock when the lock is held.
var ErrLocked = errors.New("vfs: locked by another holder")
