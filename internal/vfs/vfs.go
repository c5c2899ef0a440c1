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
	"io/fs"
	"syscall"
)

// FS is a file system. Names are slash-separated paths. Implementations are
// safe for concurrent use.
type FS interface {
	// Create creates a file for reading and writing, or truncates it.
	Create(name string) (File, error)
	// Open opens an existing file for reading only: it works on a file
	// system mounted read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)
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
	// Lock takes a lock on the directory dir itself (not on a file in it,
	// which could be deleted from under the holder), without waiting: an
	// exclusive one, or a shared one that other shared holders may hold
	// too. It fails with ErrLocked if another holder (in this process or
	// another) has a lock that conflicts. Closing the returned Closer
	// releases it.
	Lock(dir string, shared bool) (io.Closer, error)
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

// ErrReadOnly is returned by every change a ReadOnly file system refuses.
// It matches syscall.EROFS with errors.Is.
var ErrReadOnly error = readOnlyError{}

type readOnlyError struct{}

func (readOnlyError) Error() string        { return "vfs: the file system is open read-only" }
func (readOnlyError) Is(target error) bool { return target == syscall.EROFS }

// ReadOnly returns fs with every change refused (ErrReadOnly): files open
// for reading only, and locks are shared.
func ReadOnly(fs FS) FS { return readOnly{fs} }

type readOnly struct{ fs FS }

func (r readOnly) Create(name string) (File, error)        { return nil, r.refuse("create", name) }
func (r readOnly) Open(name string) (File, error)          { return r.fs.Open(name) }
func (r readOnly) OpenReadWrite(name string) (File, error) { return nil, r.refuse("open", name) }
func (r readOnly) Remove(name string) error                { return r.refuse("remove", name) }
func (r readOnly) RemoveAll(name string) error             { return r.refuse("remove", name) }
func (r readOnly) Rename(oldname, _ string) error          { return r.refuse("rename", oldname) }
func (r readOnly) MkdirAll(name string) error              { return r.refuse("mkdir", name) }
func (r readOnly) ReadDir(name string) ([]string, error)   { return r.fs.ReadDir(name) }
func (r readOnly) SyncDir(string) error                    { return nil }
func (r readOnly) Lock(dir string, _ bool) (io.Closer, error) {
	return r.fs.Lock(dir, true)
}

func (readOnly) refuse(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: ErrReadOnly}
}
