package agent

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// Streams returns the stream a flow names: an embedded one, one on
// shardlogd or on Amazon Kinesis (package aws).
type Streams func(ctx context.Context, name string) (shardlog.StreamAPI, error)

// Options are what a program embedding the agent gives it besides its
// configuration.
type Options struct {
	// Clock times polls, lingering and checkpoints. Default: the wall clock.
	Clock shardlog.Clock
	// Logger gets the agent's logs and status lines. Default slog's.
	Logger *slog.Logger
	// RateLimit caps what is sent to a shard, in percent of Kinesis's
	// shard limits (producer.Config.RateLimit): default 150; negative, no
	// cap, for streams without limits (an embedded account's
	// WithoutLimits), where throttling cannot happen.
	RateLimit int
}

// Agent tails files into streams, as the Kinesis Agent does.
type Agent struct {
	cfg      Config
	clock    shardlog.Clock
	log      *slog.Logger
	flows    []*flow
	restored checkpoints // read at start, for files not found yet

	mu       sync.Mutex // one poll at a time
	buf      []byte     // what polls read into
	saved    time.Time  // when the checkpoints were last written
	dirty    bool       // an offset moved since
	reported time.Time
	totals   Totals
}

// Totals count what the agent did since it started.
type Totals struct {
	RecordsParsed int64 // records made from lines
	RecordsSent   int64 // acknowledged by their stream
	RecordsFailed int64 // sends that failed, and were sent again
	BytesSent     int64
	// LagBytes is how many bytes of the files tailed are not yet
	// acknowledged.
	LagBytes int64
}

// flow is a Flow at work.
type flow struct {
	cfg     *Flow
	prod    *producer.Producer
	files   map[[2]uint64]*tracked // by device and inode
	orphans []pending              // records of a file's content since truncated, not yet acknowledged
	unacked int64                  // bytes of the records sent and not yet acknowledged
	started bool                   // polled once: files found from now on are new
	polled  time.Time
	rng     *rand.Rand
}

// maxRecord is the largest record a line makes: Kinesis's 1 MiB, less
// room for the partition key.
const maxRecord = 1<<20 - 64

// maxUnacked bounds the bytes of records a flow has sent and not yet seen
// acknowledged: past it, a poll reads no more until acknowledgements come,
// so that a backlog of files is read at the pace the stream takes it, not
// into memory.
const maxUnacked = 16 << 20

// checkpointEvery is how often the checkpoints are written, at most.
const checkpointEvery = time.Second

// New returns an agent for cfg (see ParseConfig), sending to the streams
// that streams returns, resuming from cfg.CheckpointFile.
func New(ctx context.Context, cfg Config, streams Streams, opts Options) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.CheckpointFile == "" {
		return nil, fmt.Errorf("%w: checkpointFile is required", ErrConfig)
	}
	if opts.Clock == nil {
		opts.Clock = shardlog.SystemClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	restored, err := loadCheckpoints(cfg.CheckpointFile)
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, clock: opts.Clock, log: opts.Logger, restored: restored}
	for i := range cfg.Flows {
		fl := &a.cfg.Flows[i]
		api, err := streams(ctx, fl.KinesisStream)
		if err == nil {
			var p *producer.Producer
			p, err = producer.New(api, producer.Config{
				MaxBufferedTime: time.Duration(fl.MaxBufferAgeMillis) * time.Millisecond,
				MaxBatchRecords: fl.MaxBufferSizeRecords,
				MaxBatchBytes:   fl.MaxBufferSizeBytes,
				RecordTTL:       time.Hour, // a record that fails is sent again (see acks)
				RateLimit:       opts.RateLimit,
				Clock:           opts.Clock,
				Logger:          opts.Logger,
			})
			a.flows = append(a.flows, &flow{cfg: fl, prod: p, files: map[[2]uint64]*tracked{}, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))})
		}
		if err != nil {
			a.closeProducers(ctx)
			return nil, fmt.Errorf("agent: flow %d, stream %s: %w", i, fl.KinesisStream, err)
		}
	}
	return a, nil
}

// Poll does one round of the agent's work: it looks at every flow's
// files, sends their new records, notes the records acknowledged, and
// writes the checkpoints if they moved (at most once a second).
func (a *Agent) Poll(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pollLocked(ctx)
}

func (a *Agent) pollLocked(ctx context.Context) error {
	now := a.clock.Now()
	for _, fl := range a.flows {
		if now.Sub(fl.polled) >= fl.cfg.pollEvery() {
			fl.polled = now
			if err := a.poll(ctx, fl, now); err != nil {
				return err
			}
		}
		a.acks(ctx, fl)
	}
	if now.Sub(a.saved) >= checkpointEvery {
		if err := a.saveLocked(); err != nil {
			return err
		}
	}
	if every := time.Duration(a.cfg.StatusReportingPeriodSeconds) * time.Second; now.Sub(a.reported) >= every {
		a.reported = now
		t := a.totalsLocked()
		a.log.Info("agent: status", "parsed", t.RecordsParsed, "sent", t.RecordsSent, "failed", t.RecordsFailed, "bytes", t.BytesSent, "lag_bytes", t.LagBytes)
	}
	return nil
}

// poll finds the flow's files and sends what they have that is new.
func (a *Agent) poll(ctx context.Context, fl *flow, now time.Time) error {
	paths, _ := filepath.Glob(fl.cfg.FilePattern) // the pattern was checked
	seen := map[[2]uint64]bool{}
	for _, path := range paths {
		if compressed(path) {
			continue // the Kinesis Agent never tails these
		}
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		dev, ino := devIno(path, fi)
		key := [2]uint64{dev, ino}
		seen[key] = true
		t := fl.files[key]
		switch {
		case t == nil:
			if t = a.open(fl, path, dev, ino, now); t == nil {
				continue
			}
			fl.files[key] = t
		case fi.Size() < t.read || !sameFile(t.f, t.id):
			// Truncated (copytruncate), or written over from its start:
			// new content, read from the start. What was sent of the old
			// goes on being acknowledged, outside the checkpoint.
			a.log.Info("agent: file truncated; reading it from its start", "file", path)
			fl.orphans = append(fl.orphans, t.pending[t.head:]...)
			t.f.Close()
			if t = a.openAt(fl, path, dev, ino, 0, now); t == nil {
				delete(fl.files, key)
				continue
			}
			fl.files[key] = t
			a.dirty = true
		}
		t.path, t.gone = path, false
	}
	if !fl.started {
		a.findMoved(fl, seen, now)
		fl.started = true
	}
	for key, t := range fl.files {
		if !seen[key] {
			t.gone = true // renamed away or deleted: drained through its open file
		}
		if fl.unacked >= maxUnacked {
			continue // the rest waits for acknowledgements
		}
		var sendErr error
		if a.buf == nil {
			a.buf = make([]byte, readChunk)
		}
		err := t.records(fl.cfg, now, maxRecord, a.buf, func(data []byte, end int64) error {
			for _, p := range fl.cfg.processors {
				if data = p(data, now); data == nil {
					return nil // dropped, as a header line is
				}
			}
			if len(data) > maxRecord { // processing made it larger than Kinesis takes
				term := *fl.cfg.TruncatedRecordTerminator
				data = append(data[:max(0, maxRecord-len(term))], term...)
			}
			key := fl.partitionKey(data)
			res, err := fl.prod.Put(ctx, key, data)
			if err != nil {
				sendErr = err
				return err
			}
			a.totals.RecordsParsed++
			fl.unacked += int64(len(data))
			t.pending = append(t.pending, pending{end: end, key: key, data: data, res: res})
			return nil
		})
		switch {
		case sendErr != nil:
			return sendErr // the record stays unread, for the next poll or run
		case err != nil:
			a.log.Warn("agent: reading a file", "file", t.path, "err", err)
		}
		if t.gone && len(t.pending) == 0 && len(t.partial) == 0 {
			if fi, err := t.f.Stat(); err == nil && fi.Size() <= t.read {
				t.f.Close()
				delete(fl.files, key)
				a.dirty = true
			}
		}
	}
	return nil
}

// open starts tailing the file at path: from its checkpoint if it has one,
// else from its start, or its end for a file there when the agent started
// with END_OF_FILE.
func (a *Agent) open(fl *flow, path string, dev, ino uint64, now time.Time) *tracked {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	for _, c := range a.restored[fl.cfg.id()] {
		if c.ID.Dev == dev && c.ID.Ino == ino && sameFile(f, c.ID) {
			f.Close()
			return a.openAt(fl, path, dev, ino, c.Offset, now)
		}
	}
	var at int64
	if !fl.started && fl.cfg.InitialPosition == "END_OF_FILE" {
		if fi, err := f.Stat(); err == nil {
			at = fi.Size()
		}
	}
	f.Close()
	return a.openAt(fl, path, dev, ino, at, now)
}

// openAt starts tailing the file at path from offset at.
func (a *Agent) openAt(fl *flow, path string, dev, ino uint64, at int64, now time.Time) *tracked {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	fp, n, err := fingerprint(f, fpMax)
	if err != nil {
		f.Close()
		return nil
	}
	t := &tracked{id: fileID{Dev: dev, Ino: ino, FPLen: n, FP: fp}, path: path, f: f, consumed: at, read: at, acked: at, lastGrew: now}
	if at == 0 {
		t.header = fl.cfg.SkipHeaderLines
	}
	a.dirty = true
	return t
}

// findMoved looks, at the first poll, for the checkpointed files that no
// path of the flow names any more (rotated away while the agent was
// down), beside where they were, to send what they have left.
func (a *Agent) findMoved(fl *flow, seen map[[2]uint64]bool, now time.Time) {
	for _, c := range a.restored[fl.cfg.id()] {
		key := [2]uint64{c.ID.Dev, c.ID.Ino}
		if seen[key] || fl.files[key] != nil {
			continue
		}
		dir := filepath.Dir(c.Path)
		names, _ := os.ReadDir(dir)
		for _, e := range names {
			path := filepath.Join(dir, e.Name())
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if dev, ino := devIno(path, fi); dev != c.ID.Dev || ino != c.ID.Ino {
				continue
			}
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			same := sameFile(f, c.ID)
			f.Close()
			if same {
				if t := a.openAt(fl, path, c.ID.Dev, c.ID.Ino, c.Offset, now); t != nil {
					t.gone = true
					fl.files[key] = t
				}
				break
			}
		}
	}
}

// acks notes the records acknowledged, in each file's order, and sends
// again those that failed.
func (a *Agent) acks(ctx context.Context, fl *flow) {
	resend := func(p *pending) bool {
		if !p.res.Finished() {
			return false // not yet
		}
		if err := p.res.(*producer.Result).Err; err != nil {
			a.totals.RecordsFailed++
			if errors.Is(err, shardlog.ErrValidation) || errors.Is(err, shardlog.ErrInvalidArgument) {
				// Refused for good: sending it again would stop the file.
				a.log.Error("agent: a record was refused; passed over", "stream", fl.cfg.KinesisStream, "bytes", len(p.data), "err", err)
				fl.unacked -= int64(len(p.data))
				return true
			}
			if res, perr := fl.prod.Put(ctx, p.key, p.data); perr == nil {
				p.res = res
			}
			return false
		}
		a.totals.RecordsSent++
		a.totals.BytesSent += int64(len(p.data))
		fl.unacked -= int64(len(p.data))
		return true
	}
	kept := fl.orphans[:0]
	for i := range fl.orphans {
		if !resend(&fl.orphans[i]) {
			kept = append(kept, fl.orphans[i])
		}
	}
	fl.orphans = kept
	for _, t := range fl.files {
		for t.head < len(t.pending) && resend(&t.pending[t.head]) {
			t.acked = t.pending[t.head].end
			t.pending[t.head] = pending{} // let its data go
			t.head++
			a.dirty = true
		}
		switch {
		case t.head == len(t.pending):
			t.pending, t.head = nil, 0 // all acknowledged: let the array go
		case t.head > 0 && t.head >= len(t.pending)/2: // compact, in amortized constant time
			t.pending = append(t.pending[:0], t.pending[t.head:]...)
			t.head = 0
		}
		if len(t.pending) == 0 && t.acked != t.consumed {
			t.acked = t.consumed // lines passed over (headers), or all acknowledged
			a.dirty = true
		}
	}
}

// checkpoints returns every tracked file's acknowledged offset.
func (a *Agent) checkpoints() checkpoints {
	c := checkpoints{}
	for _, fl := range a.flows {
		var files []fileCheckpoint
		for _, t := range fl.files {
			files = append(files, fileCheckpoint{Path: t.path, ID: t.id, Offset: t.acked})
		}
		slices.SortFunc(files, func(x, y fileCheckpoint) int { return strings.Compare(x.Path, y.Path) })
		c[fl.cfg.id()] = files
	}
	return c
}

// partitionKey returns a record's partition key, as the flow's option says.
func (fl *flow) partitionKey(data []byte) string {
	if fl.cfg.PartitionKeyOption == "DETERMINISTIC" {
		sum := md5.Sum(data)
		return hex.EncodeToString(sum[:])
	}
	return strconv.FormatFloat(fl.rng.Float64()*1e6, 'f', -1, 64)
}

// Run polls until ctx ends, then closes the agent (see Close), and
// returns Close's error.
func (a *Agent) Run(ctx context.Context) error {
	every := time.Duration(1<<63 - 1)
	for _, fl := range a.flows {
		every = min(every, fl.cfg.pollEvery())
	}
	for ctx.Err() == nil {
		if err := a.Poll(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("agent: poll", "err", err)
		}
		tick := make(chan struct{})
		t := a.clock.AfterFunc(every, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
		case <-tick:
		}
	}
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second) // the Kinesis Agent's shutdownTimeoutMillis
	defer cancel()
	return a.Close(done)
}

// Flush sends the records read so far without waiting for their linger
// time, waits until each is acknowledged or failed (or ctx ends), notes
// them and writes the checkpoints.
func (a *Agent) Flush(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, fl := range a.flows {
		if err := fl.prod.Flush(ctx); err != nil {
			return err
		}
		a.acks(ctx, fl)
	}
	return a.saveLocked()
}

// saveLocked writes the checkpoints if they moved. a.mu is held.
func (a *Agent) saveLocked() error {
	if !a.dirty {
		return nil
	}
	if err := a.checkpoints().save(a.cfg.CheckpointFile); err != nil {
		return fmt.Errorf("agent: writing checkpoints: %w", err)
	}
	a.saved, a.dirty = a.clock.Now(), false
	return nil
}

// Close sends what was read, waits for it to be acknowledged (until ctx
// ends), writes the checkpoints and closes the files. Unfinished last lines
// wait for the next run, which reads them from the checkpoint.
func (a *Agent) Close(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, fl := range a.flows {
		if err := fl.prod.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
		a.acks(ctx, fl)
	}
	a.closeProducers(ctx)
	for _, fl := range a.flows {
		a.acks(ctx, fl)
	}
	if err := a.checkpoints().save(a.cfg.CheckpointFile); err != nil {
		errs = append(errs, fmt.Errorf("agent: writing checkpoints: %w", err))
	}
	for _, fl := range a.flows {
		for _, t := range fl.files {
			t.f.Close()
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) closeProducers(ctx context.Context) {
	for _, fl := range a.flows {
		if fl.prod != nil {
			_ = fl.prod.Close(ctx)
		}
	}
}

// Totals returns what the agent did since it started.
func (a *Agent) Totals() Totals {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.totalsLocked()
}

// FileStatus is how far the agent has one file acknowledged.
type FileStatus struct {
	Stream string // the flow's stream
	Path   string // where the file was last seen
	Size   int64
	// Acked is the offset before which every record is acknowledged: the
	// checkpoint. LagBytes is what follows it: Size - Acked.
	Acked    int64
	LagBytes int64
}

// Files returns the status of every file the agent tails, by stream and
// path.
func (a *Agent) Files() []FileStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []FileStatus
	for _, fl := range a.flows {
		for _, f := range fl.files {
			st := FileStatus{Stream: fl.cfg.KinesisStream, Path: f.path, Acked: f.acked}
			if fi, err := f.f.Stat(); err == nil {
				st.Size = fi.Size()
				st.LagBytes = max(0, st.Size-f.acked)
			}
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(x, y FileStatus) int {
		return cmp.Or(strings.Compare(x.Stream, y.Stream), strings.Compare(x.Path, y.Path))
	})
	return out
}

func (a *Agent) totalsLocked() Totals {
	t := a.totals
	for _, fl := range a.flows {
		for _, f := range fl.files {
			if fi, err := f.f.Stat(); err == nil {
				t.LagBytes += max(0, fi.Size()-f.acked)
			}
		}
	}
	return t
}

// compressed reports whether path names a compressed file, which the
// Kinesis Agent never tails.
func compressed(path string) bool {
	switch filepath.Ext(path) {
	case ".gz", ".bz2", ".zip":
		return true
	}
	return false
}
