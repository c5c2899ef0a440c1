package shardlog

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Kinesis limits how often each control-plane operation may be called:
// CreateStream five times a second per account, ListShards a thousand
// times a second per stream, GetShardIterator five times a second per
// shard, and so on (controlrates_gen.go, generated from the API model's
// documentation). With Limits.ControlPlaneRates (part of AWSLimits, the
// default) an account enforces them with token buckets on its clock,
// answering as Kinesis does.

// controlRate is one operation's rate: calls per second, counted per
// account, stream or shard.
type controlRate struct {
	perSecond int
	per       rateScope
}

type rateScope uint8

const (
	perAccount rateScope = iota
	perStream
	perShard
)

// maxRateBuckets bounds the buckets an account keeps; past it, full ones
// (which a new bucket would equal) are dropped.
const maxRateBuckets = 4096

type rateKey struct {
	op, stream string
	shard      uint32
}

type rateBuckets struct {
	mu      sync.Mutex
	buckets map[rateKey]*rate.Limiter
}

// admit takes a token for a call of op on stream (and shard, for
// GetShardIterator), or answers as Kinesis does when the operation's rate
// is spent. It admits every call if Limits.ControlPlaneRates is off.
func (a *Account) admit(op, stream string, shard uint32) error {
	r, ok := controlPlaneRates[op]
	if !ok || !a.cfg.limits.ControlPlaneRates {
		return nil
	}
	key := rateKey{op: op}
	switch r.per {
	case perStream:
		key.stream = stream
	case perShard:
		key.stream, key.shard = stream, shard
	}
	now := a.cfg.clock.Now()
	if a.rates.take(key, r, now) {
		return nil
	}
	switch {
	case op == "GetShardIterator": // a data-plane exception, as the model lists
		return newError(ErrProvisionedThroughputExceeded, "Rate exceeded for shard %s in stream %s under account %s.", shardID(shard), stream, a.cfg.accountID)
	case stream != "":
		return newError(ErrLimitExceeded, "Rate exceeded for stream %s under account %s.", stream, a.cfg.accountID)
	}
	return newError(ErrLimitExceeded, "Rate exceeded for account %s.", a.cfg.accountID)
}

func (b *rateBuckets) take(key rateKey, r controlRate, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.buckets[key]
	if l == nil {
		if b.buckets == nil {
			b.buckets = map[rateKey]*rate.Limiter{}
		}
		if len(b.buckets) >= maxRateBuckets {
			for k, old := range b.buckets {
				if old.TokensAt(now) >= float64(old.Burst()) {
					delete(b.buckets, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Limit(r.perSecond), r.perSecond)
		b.buckets[key] = l
	}
	return l.AllowN(now, 1)
}
