package autoscale

import (
	"cmp"
	"context"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

// Autoscaler splits the hot shards of a PROVISIONED stream and merges
// its cold ones (Kinesis leaves this to the user; an ON_DEMAND stream
// scales by itself and refuses both calls). Each look reads the shards'
// loads of the last full minute; a shard hot for Config.Sustain looks in a
// row is split at the hash key that halves its traffic (its SplitKey, or
// its midpoint if it has none); two adjacent shards cold as long are
// merged. A look that changes the stream is followed by a cool-down, and
// counts against Config.MaxChangesPerDay.
type Autoscaler struct {
	cfg    Config
	stream Stream

	mu        sync.Mutex
	hot, cold map[string]int // looks in a row each shard was hot or cold
	changes   []time.Time    // looks that changed the stream, in the last 24 hours
	coolUntil time.Time
	decisions []Decision // the latest, at most keptDecisions
	totals    Totals
}

// keptDecisions is how many decisions Decisions returns at most.
const keptDecisions = 100

// Decision is what one look decided for one shard or pair of shards.
type Decision struct {
	At     time.Time
	Action Action
	Shards []string // the shard split, or the two merged
	Key    string   // where a split cut
	Reason string
	Err    error // the call's error, for an Action that failed
}

// Action is what a decision did.
type Action string

// Actions.
const (
	Split   Action = "split"
	Merge   Action = "merge"
	Refused Action = "refused" // a split or merge the stream refused (its error in Err)
	Held    Action = "held"    // a change the rules held back (why in Reason)
)

// Totals count the autoscaler's decisions since it was made.
type Totals struct {
	Looks, Splits, Merges, Refused, Held int64
}

// New returns an autoscaler for stream.
func New(stream Stream, cfg Config) (*Autoscaler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Autoscaler{cfg: cfg, stream: stream, hot: map[string]int{}, cold: map[string]int{}}, nil
}

// Run looks at the stream every Config.Every on the configured clock until
// ctx ends. A look that fails (the loads could not be read) is logged and
// the next one tries again.
func (a *Autoscaler) Run(ctx context.Context) error {
	for {
		if _, err := a.Look(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("autoscale: could not look at the stream", "stream", a.stream.Name(), "err", err)
		}
		tick := make(chan struct{})
		t := a.cfg.Clock.AfterFunc(a.cfg.Every, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-tick:
		}
	}
}

// Look reads the loads once, decides, and reshards as decided. It returns
// the decisions it made.
func (a *Autoscaler) Look(ctx context.Context) ([]Decision, error) {
	loads, err := a.stream.ShardLoads(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Clock.Now()
	a.totals.Looks++
	a.count(loads)
	var out []Decision
	decide := func(d Decision) {
		d.At = now
		out = append(out, d)
		a.note(d)
	}
	splits, merges := a.candidates(loads)
	if len(splits)+len(merges) == 0 {
		return nil, nil
	}
	a.changes = slices.DeleteFunc(a.changes, func(t time.Time) bool { return now.Sub(t) >= 24*time.Hour })
	switch {
	case now.Before(a.coolUntil):
		decide(Decision{Action: Held, Shards: candidateIDs(splits, merges), Reason: "cooling down after the last change until " + a.coolUntil.Format(time.RFC3339)})
		return out, nil
	case len(a.changes) >= a.cfg.MaxChangesPerDay:
		decide(Decision{Action: Held, Shards: candidateIDs(splits, merges), Reason: "the stream changed as often as MaxChangesPerDay allows in 24 hours"})
		return out, nil
	}
	open, changed := len(loads), false
	if len(splits) > 0 {
		limit := min(2*open, a.cfg.MaxShards)
		for _, l := range splits {
			if open >= limit {
				decide(Decision{Action: Held, Shards: []string{l.ShardID}, Reason: "the stream may not grow past MaxShards or double in one look"})
				continue
			}
			key, why := splitKey(l)
			if key == "" {
				decide(Decision{Action: Held, Shards: []string{l.ShardID}, Reason: "its hash key range is too narrow to split"})
				continue
			}
			if _, err := a.stream.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: l.ShardID, NewStartingHashKey: key}); err != nil {
				decide(Decision{Action: Refused, Shards: []string{l.ShardID}, Key: key, Err: err, Reason: "the stream refused the split"})
				if stop(err) {
					break
				}
				continue
			}
			open++
			changed = true
			decide(Decision{Action: Split, Shards: []string{l.ShardID}, Key: key,
				Reason: why + "; write utilization " + percent(l.WriteUtilization) + " for " + strconv.Itoa(a.hot[l.ShardID]) + " looks"})
			delete(a.hot, l.ShardID)
		}
	} else {
		floor := max((open+1)/2, a.cfg.MinShards)
		for _, pair := range merges {
			if open <= floor {
				decide(Decision{Action: Held, Shards: []string{pair[0].ShardID, pair[1].ShardID}, Reason: "the stream may not shrink below MinShards or half in one look"})
				continue
			}
			if _, err := a.stream.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: pair[0].ShardID, AdjacentShardToMerge: pair[1].ShardID}); err != nil {
				decide(Decision{Action: Refused, Shards: []string{pair[0].ShardID, pair[1].ShardID}, Err: err, Reason: "the stream refused the merge"})
				if stop(err) {
					break
				}
				continue
			}
			open--
			changed = true
			decide(Decision{Action: Merge, Shards: []string{pair[0].ShardID, pair[1].ShardID},
				Reason: "write utilization " + percent(pair[0].WriteUtilization) + " and " + percent(pair[1].WriteUtilization) + " for " + strconv.Itoa(min(a.cold[pair[0].ShardID], a.cold[pair[1].ShardID])) + " looks"})
		}
	}
	if changed {
		a.changes = append(a.changes, now)
		a.coolUntil = now.Add(a.cfg.CoolDown)
	}
	return out, nil
}

// count updates the streaks of the shards from their loads.
func (a *Autoscaler) count(loads []shardlog.ShardLoad) {
	open := map[string]bool{}
	for _, l := range loads {
		open[l.ShardID] = true
		if l.WriteUtilization > a.cfg.SplitAbove {
			a.hot[l.ShardID]++
		} else {
			a.hot[l.ShardID] = 0
		}
		if l.WriteUtilization < a.cfg.MergeBelow {
			a.cold[l.ShardID]++
		} else {
			a.cold[l.ShardID] = 0
		}
	}
	for _, m := range []map[string]int{a.hot, a.cold} {
		for id := range m {
			if !open[id] {
				delete(m, id)
			}
		}
	}
}

// candidates returns the shards hot long enough, hottest first, and the
// pairs of adjacent shards cold long enough (loads are in hash key order,
// so neighbours in it are adjacent), coldest first, none in two pairs.
func (a *Autoscaler) candidates(loads []shardlog.ShardLoad) (splits []shardlog.ShardLoad, merges [][2]shardlog.ShardLoad) {
	for _, l := range loads {
		if a.hot[l.ShardID] >= a.cfg.Sustain {
			splits = append(splits, l)
		}
	}
	slices.SortStableFunc(splits, func(x, y shardlog.ShardLoad) int { return cmp.Compare(y.WriteUtilization, x.WriteUtilization) })
	for i := 0; i+1 < len(loads); i++ {
		x, y := loads[i], loads[i+1]
		if a.cold[x.ShardID] >= a.cfg.Sustain && a.cold[y.ShardID] >= a.cfg.Sustain {
			merges = append(merges, [2]shardlog.ShardLoad{x, y})
			i++
		}
	}
	slices.SortStableFunc(merges, func(x, y [2]shardlog.ShardLoad) int {
		return cmp.Compare(x[0].WriteUtilization+x[1].WriteUtilization, y[0].WriteUtilization+y[1].WriteUtilization)
	})
	return splits, merges
}

// note logs d and keeps it. a.mu is held.
func (a *Autoscaler) note(d Decision) {
	switch d.Action {
	case Split:
		a.totals.Splits++
	case Merge:
		a.totals.Merges++
	case Refused:
		a.totals.Refused++
	case Held:
		a.totals.Held++
	}
	a.decisions = append(a.decisions, d)
	if len(a.decisions) > keptDecisions {
		a.decisions = slices.Delete(a.decisions, 0, len(a.decisions)-keptDecisions)
	}
	attrs := []any{"stream", a.stream.Name(), "action", d.Action, "shards", d.Shards, "reason", d.Reason}
	if d.Key != "" {
		attrs = append(attrs, "key", d.Key)
	}
	switch {
	case d.Err != nil:
		a.cfg.Logger.Warn("autoscale: "+string(d.Action), append(attrs, "err", d.Err)...)
	case d.Action == Held: // every look while it lasts
		a.cfg.Logger.Debug("autoscale: "+string(d.Action), attrs...)
	default:
		a.cfg.Logger.Info("autoscale: "+string(d.Action), attrs...)
	}
}

// Decisions returns the latest decisions (up to 100), oldest first.
func (a *Autoscaler) Decisions() []Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.decisions)
}

// StreamName returns the name of the stream the autoscaler scales.
func (a *Autoscaler) StreamName() string { return a.stream.Name() }

// Totals returns the counts of looks and decisions so far.
func (a *Autoscaler) Totals() Totals {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.totals
}

// splitKey returns where to split l's shard, and why there.
func splitKey(l shardlog.ShardLoad) (key, why string) {
	lo, ok1 := new(big.Int).SetString(l.HashKeyRange.StartingHashKey, 10)
	hi, ok2 := new(big.Int).SetString(l.HashKeyRange.EndingHashKey, 10)
	k, ok3 := new(big.Int).SetString(l.SplitKey, 10)
	if ok1 && ok2 && ok3 && new(big.Int).Add(lo, big.NewInt(1)).Cmp(k) < 0 && k.Cmp(hi) < 0 {
		return l.SplitKey, "at the hash key that halves its traffic"
	}
	return l.HashKeyRange.Midpoint(), "at its midpoint (no sample of its traffic)"
}

// stop reports whether err ends the look's changes: the stream is not
// ACTIVE (a change is under way) or a limit is reached.
func stop(err error) bool {
	return errors.Is(err, shardlog.ErrResourceInUse) || errors.Is(err, shardlog.ErrLimitExceeded)
}

func candidateIDs(splits []shardlog.ShardLoad, merges [][2]shardlog.ShardLoad) []string {
	var ids []string
	for _, l := range splits {
		ids = append(ids, l.ShardID)
	}
	for _, p := range merges {
		ids = append(ids, p[0].ShardID, p[1].ShardID)
	}
	return ids
}

// percent formats a utilization.
func percent(u float64) string { return strconv.FormatFloat(100*u, 'f', 0, 64) + "%" }
