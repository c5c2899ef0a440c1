//go:build unix

package vfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// OS is the operating system's file system.
type OS struct{}

func (OS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (OS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (OS) OpenReadWrite(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (OS) Remove(name string) error             { return os.Remove(name) }
func (OS) RemoveAll(name string) error          { return os.RemoveAll(name) }
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (OS) MkdirAll(name string) error           { return os.MkdirAll(name, 0o755) }

func (OS) ReadDir(name string) ([]string, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

func (OS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (OS) Lock(dir string, shared bool) (io.Closer, error) {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return nil, err
	}
	// flock locks belong to the open file description, so a second Lock
	// in this same process conflicts too; one on the directory itself
	// cannot be deleted from under its holder, as a lock file can.
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	if err := syscall.Flock(int(d.Fd()), how|syscall.LOCK_NB); err != nil {
		d.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return d, nil
}

type osFile struct {
	f   *os.File
	mem []byte // the mapping, if any
}

func (o *osFile) ReadAt(p []byte, off int64) (int, error)  { return o.f.ReadAt(p, off) }
func (o *osFile) WriteAt(p []byte, off int64) (int, error) { return o.f.WriteAt(p, off) }
func (o *osFile) Sync() error                              { return datasync(o.f) }
func (o *osFile) Truncate(size int64) error                { return o.f.Truncate(size) }
func (o *osFile) Allocate(size int64) error                { return allocate(o.f, size) }

func (o *osFile) Size() (int64, error) {
	fi, err := o.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (o *osFile) Map(size int) ([]byte, error) {
	if o.mem != nil {
		return nil, errors.New("vfs: file mapped already")
	}
	mem, err := syscall.Mmap(int(o.f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	o.mem = mem
	prefault(mem)
	return mem, nil
}

func (o *osFile) SyncMapped(off, n int) error {
	if o.mem == nil || off < 0 || n < 0 || off+n > len(o.mem) {
		return errors.New("vfs: SyncMapped outside the mapping")
	}
	page := syscall.Getpagesize()
	start, whole := off&^(page-1), (off+n)&^(page-1)
	if whole > start {
		unmapPages(o.mem[start:whole])
	}
	return msync(o.mem[start : off+n])
}

func (o *osFile) Close() error {
	var err error
	if o.mem != nil {
		err = syscall.Munmap(o.mem)
		o.mem = nil
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}
