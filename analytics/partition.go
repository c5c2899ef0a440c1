package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hashkey"
)

// A job with Config.ByPartitionKey keeps each shard's windows with the
// shard: its consumer aggregates, fires and saves them itself, in a
// snapshot of its own (named "<job>@<stream>@<shard ID>"), so that the
// job's instances share the shards as a consumer group's workers do and a
// shard's state moves with its lease. A shard's watermark is its own: its
// keys have no events elsewhere. When a shard splits or merges, its
// children take its open windows, each the keys whose hash keys are in
// its range, and its watermark.

// shardWindows is one shard's part of a job keyed by partition key.
type shardWindows[E any, K comparable, A, R any] struct {
	j     *Job[E, K, A, R]
	src   shardlog.StreamAPI
	id    string // the shard's ID
	shard string // "<stream>/<shard ID>"
	name  string // its snapshot's name
	state *windows[E, K, A, R]
	sh    shardState
	rng   hashkey.Range

	out      outbox[K, R]
	savedPos shardlog.SequenceNumber // the position in the last snapshot saved
	done     shardlog.SequenceNumber // the lease's checkpoint
	late     []LateEvent[E]
	windows  int // open windows, as last counted into Stats
}

func (j *Job[E, K, A, R]) snapshotName(src shardlog.StreamAPI, shardID string) string {
	return j.cfg.Name + "@" + src.Name() + "@" + shardID
}

func (j *Job[E, K, A, R]) newShardWindows(src shardlog.StreamAPI, shardID string) shardlog.RecordProcessor {
	name := j.snapshotName(src, shardID)
	return &shardWindows[E, K, A, R]{j: j, src: src, id: shardID, shard: src.Name() + "/" + shardID, name: name,
		out: outbox[K, R]{store: j.cfg.Store, name: name, clock: j.cfg.Clock, interval: j.cfg.SnapshotInterval}}
}

func (p *shardWindows[E, K, A, R]) newState() *windows[E, K, A, R] {
	s := newWindows[E, K, A, R](p.j.cfg.Window, int64(p.j.cfg.AllowedLateness), p.j.cfg.Aggregate, p.j.cfg.Name)
	s.hashes = map[K]hashkey.Key{}
	return s
}

// Initialize restores the shard's snapshot; a shard without one takes its
// parents' windows for its hash keys.
func (p *shardWindows[E, K, A, R]) Initialize(ctx context.Context, in shardlog.InitializeInput) error {
	p.done = in.Checkpoint
	p.state = p.newState()
	p.sh = shardState{MaxEventTime: floor}
	p.j.stats.pending.Add(-int64(len(p.out.pending))) // (a retried Initialize)
	p.j.stats.windows.Add(-int64(p.windows))
	p.out.pending, p.windows = nil, 0
	me, parents, err := p.lineage(ctx)
	if err != nil {
		return err
	}
	p.rng = me
	data, version, err := p.j.cfg.Store.Load(ctx, p.name)
	if err != nil {
		return fmt.Errorf("analytics: loading the snapshot %s: %w", p.name, err)
	}
	var pending []Result[K, R]
	if data != nil {
		shards, restored, err := p.state.decode(data)
		if err != nil {
			return err
		}
		pending = restored
		if sh, ok := shards[p.id]; ok {
			p.sh = sh
		}
	} else {
		for _, parent := range parents {
			data, _, err := p.j.cfg.Store.Load(ctx, p.j.snapshotName(p.src, parent))
			if err != nil {
				return fmt.Errorf("analytics: loading the snapshot of the parent %s: %w", parent, err)
			}
			if data == nil {
				continue // never read by this job
			}
			ps := p.newState()
			shards, restored, err := ps.decode(data)
			if err != nil {
				return err
			}
			p.state.absorb(ps, me.Contains)
			p.sh.MaxEventTime = max(p.sh.MaxEventTime, shards[parent].MaxEventTime)
			// Results the parent may not have emitted before it ended: both
			// children emit them again, under the same IDs.
			pending = append(pending, restored...)
		}
	}
	p.out.restored(version, pending, p.j.cfg.Clock.Now())
	p.savedPos = p.sh.Position
	p.j.track(p.name, p.state.watermark)
	p.j.stats.pending.Add(int64(len(pending)))
	p.countWindows()
	return p.flush(ctx)
}

// lineage returns the shard's hash key range and its parents.
func (p *shardWindows[E, K, A, R]) lineage(ctx context.Context) (hashkey.Range, []string, error) {
	in := shardlog.ListShardsInput{}
	for {
		out, err := p.src.ListShards(ctx, in)
		if err != nil {
			return hashkey.Range{}, nil, err
		}
		for _, sh := range out.Shards {
			if sh.ShardID != p.id {
				continue
			}
			start, err1 := hashkey.Parse(sh.HashKeyRange.StartingHashKey)
			end, err2 := hashkey.Parse(sh.HashKeyRange.EndingHashKey)
			if err := errors.Join(err1, err2); err != nil {
				return hashkey.Range{}, nil, err
			}
			var parents []string
			for _, x := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
				if x != "" {
					parents = append(parents, x)
				}
			}
			return hashkey.Range{Start: start, End: end}, parents, nil
		}
		if out.NextToken == "" {
			return hashkey.Range{}, nil, fmt.Errorf("analytics: the shard %s of %s is not listed", p.id, p.src.Name())
		}
		in = shardlog.ListShardsInput{NextToken: out.NextToken}
	}
}

func (p *shardWindows[E, K, A, R]) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	now := p.j.cfg.Clock.Now()
	if len(in.Records) > 0 && in.Records[len(in.Records)-1].SequenceNumber.Compare(p.sh.Position) > 0 {
		added, nLate := 0, 0
		for i := range in.UserRecords {
			u := &in.UserRecords[i]
			if !p.sh.Position.IsZero() && u.SequenceNumber.Compare(p.sh.Position) <= 0 {
				continue // in the snapshot already
			}
			e, k, t, ok := p.j.decode(p.shard, u, now.UnixNano())
			if !ok {
				continue
			}
			if _, ok := p.state.hashes[k]; !ok {
				p.state.hashes[k] = hashOf(u)
			}
			if p.state.add(k, t, e) {
				added++
			} else if nLate++; p.j.cfg.Late != nil {
				p.late = append(p.late, LateEvent[E]{Event: e, Time: unixNano(t), Watermark: unixNano(p.state.watermark),
					ShardID: p.shard, SequenceNumber: u.SequenceNumber})
			}
			p.sh.MaxEventTime = max(p.sh.MaxEventTime, t)
		}
		p.sh.Position = in.Records[len(in.Records)-1].SequenceNumber
		p.out.dirty = true
		p.j.stats.events.Add(int64(added))
		p.j.stats.late.Add(int64(nLate))
		for _, l := range p.late {
			p.j.cfg.Late(l)
		}
		clear(p.late)
		p.late = p.late[:0]
	}
	if err := p.step(ctx, now, in.MillisBehindLatest == 0); err != nil {
		return err
	}
	return p.checkpoint(ctx, in.Checkpointer)
}

// hashOf is the hash key that routed a user record.
func hashOf(u *shardlog.UserRecord) hashkey.Key {
	if u.ExplicitHashKey != "" {
		if k, err := hashkey.Parse(u.ExplicitHashKey); err == nil {
			return k
		}
	}
	return hashkey.FromMD5(u.PartitionKey)
}

// step moves the shard's watermark, fires what it closes, saves and
// emits, as the operator of a job keyed across shards does.
func (p *shardWindows[E, K, A, R]) step(ctx context.Context, now time.Time, caughtUp bool) error {
	wm := now.UnixNano()
	if p.j.cfg.EventTime != nil {
		wm = floor
		if p.sh.MaxEventTime != floor {
			wm = satAdd(p.sh.MaxEventTime, -int64(p.j.cfg.MaxOutOfOrderness))
		}
	}
	before := len(p.out.pending)
	p.out.pending = p.state.advance(wm, p.out.pending)
	p.j.stats.pending.Add(int64(len(p.out.pending) - before))
	p.countWindows()
	p.j.track(p.name, p.state.watermark)
	// A save the gap defers is taken at the next call: with records, or
	// the group's idle call within a second.
	if save, _ := p.out.due(now, caughtUp); save {
		if err := p.save(ctx); err != nil {
			return err
		}
	}
	return p.flush(ctx)
}

func (p *shardWindows[E, K, A, R]) save(ctx context.Context) error {
	err := p.out.save(ctx, func() ([]byte, error) {
		return p.state.encode(map[string]shardState{p.id: p.sh}, p.out.pending)
	})
	if err != nil {
		return err
	}
	p.savedPos = p.sh.Position
	p.j.stats.snapshots.Add(1)
	return nil
}

// flush emits the results the last snapshot holds; an error goes to the
// group, which calls again after a second.
func (p *shardWindows[E, K, A, R]) flush(ctx context.Context) error {
	sent, err := p.out.emit(ctx, p.j.cfg.Output)
	if err != nil {
		return fmt.Errorf("analytics: emitting results: %w", err)
	}
	p.j.stats.results.Add(int64(sent))
	p.j.stats.pending.Add(-int64(sent))
	return nil
}

// checkpoint moves the lease to the last snapshot's position.
func (p *shardWindows[E, K, A, R]) checkpoint(ctx context.Context, c *shardlog.Checkpointer) error {
	if p.savedPos.IsZero() || p.savedPos.Compare(p.done) <= 0 {
		return nil
	}
	if err := c.CheckpointAt(ctx, p.savedPos); err != nil {
		return err
	}
	p.done = p.savedPos
	return nil
}

func (p *shardWindows[E, K, A, R]) LeaseLost(context.Context, shardlog.LeaseLostInput) {
	p.forget()
}

// ShardEnded saves the shard's windows as its children will take them,
// emits its results and checkpoints the end, so that the children start.
func (p *shardWindows[E, K, A, R]) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	p.sh.Ended = true
	if err := p.save(ctx); err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	p.forget()
	return in.Checkpointer.Checkpoint(ctx)
}

func (p *shardWindows[E, K, A, R]) ShutdownRequested(ctx context.Context, in shardlog.ShutdownRequestedInput) error {
	defer p.forget()
	if p.out.dirty || len(p.out.pending) > p.out.fixed {
		if err := p.save(ctx); err != nil {
			return err
		}
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	return p.checkpoint(ctx, in.Checkpointer)
}

// forget takes the shard out of Stats: another consumer has it now.
func (p *shardWindows[E, K, A, R]) forget() {
	p.j.untrack(p.name)
	p.j.stats.pending.Add(-int64(len(p.out.pending)))
	p.j.stats.windows.Add(-int64(p.windows))
	p.out.pending, p.out.fixed, p.windows = nil, 0, 0
}

// countWindows brings the job's count of open windows up to date with
// this shard's.
func (p *shardWindows[E, K, A, R]) countWindows() {
	n := p.state.open()
	p.j.stats.windows.Add(int64(n - p.windows))
	p.windows = n
}

// track notes a shard's watermark for Stats, in a job keyed by partition
// key: its watermark is the least of those of the shards this instance
// reads.
func (j *Job[E, K, A, R]) track(shard string, wm int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.shardWM[shard] = wm
	least := int64(floor)
	for _, w := range j.shardWM {
		if least == floor || w < least {
			least = w
		}
	}
	j.stats.watermark.Store(least)
}

func (j *Job[E, K, A, R]) untrack(shard string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.shardWM, shard)
}
