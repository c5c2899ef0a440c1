package shardlog

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/btree"
	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/manifest"
	"github.com/shardlog/shardlog/internal/token"
)

// This file turns streams into manifest entries and back. Every change to
// a stream's metadata in a durable account is persisted before it takes
// effect: the operation builds the new state, persists it, and only then
// applies what readers and writers can see; if persisting fails, the
// operation fails with InternalFailure and changes nothing.

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// metaLocked returns the stream's manifest entry as it is. Shards a reshard
// in progress retires are recorded as closed at closing. s.mu is held.
func (s *Stream) metaLocked(closing time.Time) *manifest.Stream {
	t := s.times.Load()
	m := &manifest.Stream{
		Name:           s.name,
		Incarnation:    s.inc,
		Created:        nanos(s.created),
		Active:         nanos(t.active),
		Updating:       nanos(t.updating),
		Deleted:        nanos(t.deleted),
		Gone:           nanos(t.gone),
		RetentionHours: int(s.retention() / time.Hour),
		RetentionRest:  int64(s.retention() % time.Hour), // nonzero only under EmbeddedLog
		Mode:           string(s.settings.mode),
		Encryption:     string(s.settings.encryption),
		KeyID:          s.settings.keyID,
		Metrics:        slices.Clone(s.settings.metrics),
		Tags:           maps.Clone(s.tags),
		NextShard:      s.nextShard,
		Shards:         make([]manifest.Shard, 0, len(s.shards)),
	}
	for _, op := range s.scalingOps {
		m.ScalingOps = append(m.ScalingOps, nanos(op))
	}
	for _, op := range s.modeSwitches {
		m.ModeSwitches = append(m.ModeSwitches, nanos(op))
	}
	for _, sh := range s.shards {
		ms := manifest.Shard{
			Index:   sh.index,
			Start:   sh.rng.Start.String(),
			End:     sh.rng.End.String(),
			Parents: sh.parents,
			Created: nanos(sh.created),
			Head:    sh.seg.Head(),
			Next:    sh.durableNext(),
		}
		switch {
		case sh.closed.Load():
			ms.ClosedAt = nanos(sh.closedAt)
		case sh.retiring:
			ms.ClosedAt = nanos(closing)
		}
		m.Shards = append(m.Shards, ms)
	}
	for _, c := range s.consumers {
		mc := manifest.Consumer{Name: c.name, ARN: c.arn, Created: nanos(c.created), Deleted: nanos(c.deleted)}
		if c.policy != nil {
			mc.Policy = c.policy.Document
		}
		m.Consumers = append(m.Consumers, mc)
	}
	if p := s.policy.Load(); p != nil {
		m.Policy = p.Document
	}
	for _, d := range s.crypto.byGen.Load() {
		m.DataKeys = append(m.DataKeys, manifest.DataKey{Gen: int(d.gen), KeyID: d.keyID, Wrapped: d.wrapped})
	}
	if d := s.crypto.current.Load(); d != nil {
		m.EncryptionGen = int(d.gen)
	}
	slices.SortFunc(m.Consumers, func(a, b manifest.Consumer) int { return strings.Compare(a.Name, b.Name) })
	return m
}

// persistLocked writes the stream's metadata as it is now to the manifest
// of a durable account; in memory it does nothing. s.mu is held.
func (s *Stream) persistLocked() error {
	if s.acct.store == nil {
		return nil
	}
	return s.acct.store.persist(s.inc, s.metaLocked(time.Time{}))
}

// streamSave is a stream's metadata as it was before a change, to put back
// if the change cannot be persisted.
type streamSave struct {
	settings   settings
	current    *dataKey   // the data key new records are encrypted with
	keys       []*dataKey // every data key
	tags       map[string]string
	retention  int64
	scalingOps []time.Time
	switches   []time.Time
	shards     []*shard
	nextShard  uint32
}

// saveLocked copies the metadata a change may alter. s.mu is held.
func (s *Stream) saveLocked() streamSave {
	st := s.settings
	st.metrics = slices.Clone(st.metrics)
	return streamSave{
		settings:   st,
		current:    s.crypto.current.Load(),
		keys:       s.crypto.byGen.Load(),
		tags:       maps.Clone(s.tags),
		retention:  s.retentionNanos.Load(),
		scalingOps: slices.Clone(s.scalingOps),
		switches:   slices.Clone(s.modeSwitches),
		shards:     s.shards,
		nextShard:  s.nextShard,
	}
}

// restoreLocked puts back what saveLocked copied. s.mu is held.
func (s *Stream) restoreLocked(v streamSave) {
	s.settings, s.tags, s.scalingOps, s.modeSwitches = v.settings, v.tags, v.scalingOps, v.switches
	s.kms.Store(v.settings.encryption == EncryptionKMS)
	s.enhanced.Store(monitorBits(v.settings.metrics))
	s.crypto.current.Store(v.current)
	s.crypto.byGen.Store(v.keys)
	for _, sh := range s.shards {
		sh.retiring = false
	}
	s.shards, s.nextShard = v.shards, v.nextShard
	s.pending = s.pending[:0]
	if s.retentionNanos.Swap(v.retention) != v.retention {
		for _, sh := range s.shards {
			sh.resetTrimAt()
		}
	}
}

// restore opens a durable account: the manifest's streams, with their
// shards and records from the files.
func (a *Account) restore(m *manifest.Manifest) error {
	st := a.store
	start := time.Now()
	rep := &st.report
	if m == nil { // a new account: keep a fresh iterator key
		st.key = a.codec.Key()
		st.mu.Lock()
		err := st.writeLocked()
		st.mu.Unlock()
		if err != nil {
			return fmt.Errorf("shardlog: writing the manifest: %w", err)
		}
		return nil
	}
	copy(st.key[:], m.TokenKey)
	a.codec = token.NewCodecWithKey(st.key)
	st.lastInc, a.lastInc = m.LastIncarnation, m.LastIncarnation
	now := a.cfg.clock.Now()
	for i := range m.Streams {
		ms := &m.Streams[i]
		if ms.Deleted != 0 && !now.Before(fromNanos(ms.Gone)) {
			// Its deletion finished: forget it (and its files) for good.
			if st.readOnly {
				continue
			}
			if err := st.fs.RemoveAll(st.streamDir(ms.Incarnation)); err != nil {
				return fmt.Errorf("shardlog: removing deleted stream %s: %w", ms.Name, err)
			}
			continue
		}
		s, err := a.restoreStream(ms, rep)
		if err != nil {
			return fmt.Errorf("shardlog: restoring stream %s: %w", ms.Name, err)
		}
		a.streams[s.name] = s
		st.streams[ms.Incarnation] = ms
		rep.Streams++
		rep.Shards += len(s.shards)
		if s.times.Load().deleted.IsZero() {
			a.openShards.Add(int64(s.openShardCount()))
		}
	}
	if len(st.streams) < len(m.Streams) && !st.readOnly {
		st.mu.Lock()
		err := st.writeLocked() // without the streams that were gone
		st.mu.Unlock()
		if err != nil {
			return fmt.Errorf("shardlog: writing the manifest: %w", err)
		}
	}
	if err := a.removeOrphans(rep); err != nil {
		return err
	}
	rep.Duration = time.Since(start)
	if len(rep.TornTails)+len(rep.Corrupt) > 0 {
		st.log.Warn("shardlog: opened a damaged account", "dir", st.dir, "torn", len(rep.TornTails), "corrupt", len(rep.Corrupt))
	}
	st.log.Info("shardlog: opened", "dir", st.dir, "streams", rep.Streams, "shards", rep.Shards, "records", rep.Records, "took", rep.Duration)
	return nil
}

// removeOrphans deletes the directories of streams, and the files (or
// directories) of shards, that the manifest no longer names: left by a
// deletion (or a CreateStream or reshard that failed) that a crash or a
// failed removal interrupted. A read-only account only reports them.
func (a *Account) removeOrphans(rep *RecoveryReport) error {
	st := a.store
	streams, err := st.fs.ReadDir(st.path("streams"))
	if errors.Is(err, errNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	shardsOf := map[uint32]map[uint32]bool{}
	for _, s := range a.streams {
		known := map[uint32]bool{}
		for _, sh := range s.shards {
			known[sh.index] = true
		}
		shardsOf[s.inc] = known
	}
	var orphans []string
	for _, name := range streams {
		inc, err := strconv.ParseUint(name, 10, 32)
		known, ok := shardsOf[uint32(inc)]
		if err != nil || !ok {
			orphans = append(orphans, st.path("streams", name))
			continue
		}
		shards, err := st.fs.ReadDir(st.path("streams", name))
		if err != nil {
			return err
		}
		for _, e := range shards {
			if index, _, _, ok := streamDirEntry(e); !ok || !known[index] {
				orphans = append(orphans, st.path("streams", name, e))
			}
		}
	}
	dirty := map[string]bool{}
	for _, name := range orphans {
		rep.Orphans = append(rep.Orphans, name)
		if st.readOnly {
			continue
		}
		if err := st.fs.RemoveAll(name); err != nil {
			return fmt.Errorf("shardlog: removing %s, which no stream owns: %w", name, err)
		}
		dirty[path.Dir(name)] = true
		st.log.Warn("shardlog: removed what no stream owns: a deletion a crash interrupted", "path", name)
	}
	for dir := range dirty {
		if err := st.fs.SyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// restoreStream rebuilds a stream from its manifest entry and its files.
func (a *Account) restoreStream(ms *manifest.Stream, rep *RecoveryReport) (*Stream, error) {
	s := &Stream{
		acct:    a,
		name:    ms.Name,
		arn:     a.StreamARN(ms.Name),
		inc:     ms.Incarnation,
		created: fromNanos(ms.Created),
		gone:    make(chan struct{}),
	}
	t := &streamTimes{active: fromNanos(ms.Active), updating: fromNanos(ms.Updating), deleted: fromNanos(ms.Deleted), gone: fromNanos(ms.Gone)}
	s.times.Store(t)
	if !t.deleted.IsZero() {
		close(s.gone)
	}
	s.retentionNanos.Store(int64(time.Duration(ms.RetentionHours)*time.Hour) + ms.RetentionRest)
	s.settings = settings{mode: StreamMode(ms.Mode), encryption: EncryptionType(ms.Encryption), keyID: ms.KeyID, metrics: ms.Metrics}
	s.scale.follow(s.settings.mode, s.acct.cfg.clock.Now())
	s.kms.Store(EncryptionType(ms.Encryption) == EncryptionKMS)
	s.enhanced.Store(monitorBits(ms.Metrics))
	if len(ms.Tags) > 0 {
		s.tags = ms.Tags
	}
	for _, op := range ms.ScalingOps {
		s.scalingOps = append(s.scalingOps, fromNanos(op))
	}
	for _, op := range ms.ModeSwitches {
		s.modeSwitches = append(s.modeSwitches, fromNanos(op))
	}
	s.nextShard = ms.NextShard
	ls, err := a.store.listStream(ms.Incarnation)
	if err != nil {
		return nil, err
	}
	byID := map[string]*shard{}
	for _, m := range ms.Shards {
		start, err1 := hashkey.Parse(m.Start)
		end, err2 := hashkey.Parse(m.End)
		if err1 != nil || err2 != nil || m.Index >= ms.NextShard {
			return nil, fmt.Errorf("shard %d: bad manifest entry", m.Index)
		}
		sh := newShard(s, m.Index, hashkey.Range{Start: start, End: end}, fromNanos(m.Created), m.Parents...)
		ss := shardState{head: m.Head, next: m.Next, millis: sh.created.UnixMilli(), closed: m.ClosedAt != 0}
		names, err := a.store.shardNames(sh.files, ls)
		if err == nil {
			err = sh.files.recover(&sh.seg, ss, names, rep)
		}
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", m.Index, err)
		}
		sh.afterRestore()
		if m.ClosedAt != 0 {
			sh.frozen = true
			sh.closedAt = fromNanos(m.ClosedAt)
			sh.closed.Store(true)
		}
		s.shards = append(s.shards, sh)
		byID[sh.id] = sh
	}
	for _, sh := range s.shards { // children, from their parents
		for _, p := range sh.parents {
			if parent := byID[p]; parent != nil {
				parent.children = append(parent.children, sh)
			}
		}
	}
	s.openTree = btree.NewG(16, routeLess)
	for _, sh := range s.shards {
		if !sh.closed.Load() {
			s.openTree.ReplaceOrInsert(routeItem{start: sh.rng.Start, sh: sh})
		}
	}
	s.route.Store(newRouter(s.openTree.Clone()))
	for _, mc := range ms.Consumers {
		if s.consumers == nil {
			s.consumers = map[string]*consumer{}
		}
		c := &consumer{
			name: mc.Name, arn: mc.ARN, created: fromNanos(mc.Created), deleted: fromNanos(mc.Deleted),
			subs: map[uint32]*Subscription{}, last: map[uint32]time.Time{},
		}
		var err error
		if c.policy, err = restorePolicy(mc.Policy, mc.ARN); err != nil {
			return nil, err
		}
		s.consumers[mc.Name] = c
	}
	p, err := restorePolicy(ms.Policy, s.arn)
	if err != nil {
		return nil, err
	}
	s.policy.Store(p)
	var keys []*dataKey
	for i, k := range ms.DataKeys {
		if k.Gen != i+1 {
			return nil, fmt.Errorf("data key %d of %d: bad manifest entry", k.Gen, len(ms.DataKeys))
		}
		keys = append(keys, s.restoreDataKey(uint8(k.Gen), k.KeyID, k.Wrapped))
	}
	s.crypto.byGen.Store(keys)
	if g := ms.EncryptionGen; g > 0 {
		if g > len(keys) {
			return nil, fmt.Errorf("encryption generation %d of %d: bad manifest entry", g, len(keys))
		}
		s.crypto.current.Store(keys[g-1])
	}
	return s, nil
}

// restorePolicy parses a resource-based policy kept in the manifest; nil
// for none.
func restorePolicy(doc, arn string) (*iam.Policy, error) {
	if doc == "" {
		return nil, nil
	}
	p, err := iam.Parse(doc, true)
	if err != nil {
		return nil, fmt.Errorf("the resource policy of %s: %w", arn, err)
	}
	p.Name = "resource policy of " + arn
	return p, nil
}

// durableNext returns the position after the newest record known durable;
// 0 in memory.
func (sh *shard) durableNext() uint64 {
	if sh.files == nil {
		return 0
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.durability.synced
}

// afterRestore sets a restored shard's time bookkeeping from its records.
func (sh *shard) afterRestore() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.lastMillis, _ = sh.seg.LastMillis() // expired records still date a closed shard
	sh.durability.synced = sh.seg.Written()
	sh.count(sh.seg.Bytes(), int64(sh.seg.Len()-sh.seg.Head()))
	sh.setTrimAt()
}
