//go:build !unix

package vfs

import (
	"errors"
	"io"
)

// OS is the operating system's file system. On this platform the durable
// store is not available: it needs shared file mappings and flock.
type OS struct{}

var errUnsupported = errors.New("vfs: durable storage needs a unix system")

func (OS) Create(string) (File, error)          { return nil, errUnsupported }
func (OS) Open(string) (File, error)            { return nil, errUnsupported }
func (OS) OpenReadWrite(string) (File, error)   { return nil, errUnsupported }
func (OS) Remove(string) error                  { return errUnsupported }
func (OS) RemoveAll(string) error               { return errUnsupported }
func (OS) Rename(string, string) error          { return errUnsupported }
func (OS) MkdirAll(string) error                { return errUnsupported }
func (OS) ReadDir(string) ([]string, error)     { return nil, errUnsupported }
func (OS) SyncDir(string) error                 { return errUnsupported }
func (OS) Lock(string, bool) (io.Closer, error) { return nil, errUnsupported }
