package shardlog

import (
	"context"
	"errors"
	"time"
)

// A group in enhanced fan-out mode reads through a registered consumer
// named after its application, as the Kinesis Client Library does: each
// shard consumer subscribes at its checkpoint and subscribes again at the
// continuation sequence number whenever a subscription ends.

// fanOutConsumer returns the group's registered consumer, registering it
// if need be and waiting until it is ACTIVE.
func (w *worker) fanOutConsumer(ctx context.Context) (Consumer, error) {
	api, name := w.src.api(), w.cfg.Application
	c, err := api.RegisterStreamConsumer(ctx, name)
	if errors.Is(err, ErrResourceInUse) { // another worker registered it
		c, err = api.DescribeStreamConsumer(ctx, name)
	}
	for err == nil && c.ConsumerStatus == ConsumerCreating {
		if err = sleep(ctx, w.cfg.Clock, time.Second, nil); err == nil {
			c, err = api.DescribeStreamConsumer(ctx, name)
		}
	}
	if err == nil && c.ConsumerStatus != ConsumerActive {
		err = newError(ErrResourceInUse, "Consumer %s is %s.", c.ConsumerARN, c.ConsumerStatus)
	}
	return c, err
}

// readFanOut is read for a group in enhanced fan-out mode.
func (c *shardConsumer) readFanOut(idle <-chan struct{}) (in ProcessRecordsInput, _ readState) {
	w, sh := c.w, c.sh
	for {
		if c.ended {
			return in, readEnd
		}
		if stopped(c.h) {
			return in, readStopped
		}
		if c.sub == nil {
			p := StartingPosition{Type: AfterSequenceNumber, SequenceNumber: sh.before(c.pos)}
			sub, err := c.s.acct.SubscribeToShard(w.ctx, SubscribeToShardInput{ConsumerARN: w.consumerARN, ShardID: sh.id, StartingPosition: p})
			if errors.Is(err, ErrResourceInUse) && !w.stillHolds(c.h) {
				// Another worker subscribed within five seconds: the one
				// that took the lease. Stop now rather than take the
				// shard back from it in five.
				w.loseLease(c.h)
				return in, readStopped
			}
			if err != nil {
				// Too soon after the last one, or the consumer is gone: try
				// again after a while, unless told to stop.
				w.cfg.Logger.Warn("shardlog: a group could not subscribe to a shard", "shard", sh.id, "err", err)
				if !w.sleep(c.h, time.Second) {
					return in, readStopped
				}
				continue
			}
			c.sub = sub
		}
		select {
		case ev, ok := <-c.sub.Events():
			if !ok {
				err := c.sub.Err()
				c.sub = nil
				var d *DamagedRecordsError
				if errors.As(err, &d) {
					c.pos = d.Last.n.Counter // reported, and passed
					return ProcessRecordsInput{Damaged: d, Checkpointer: c.cp}, readBatch
				}
				if errors.Is(err, ErrResourceInUse) && !w.stillHolds(c.h) {
					// The worker that took the lease subscribed: stop now
					// rather than at the next renewal, or the two would
					// take the shard from each other.
					w.loseLease(c.h)
					return in, readStopped
				}
				continue // its five minutes are up: subscribe again
			}
			c.ended = ev.ContinuationSequenceNumber.IsZero() // the last event of a closed shard
			if in = c.fanOutBatch(ev); len(in.Records) > 0 || in.Lost != nil || in.Damaged != nil {
				return in, readBatch
			}
		case <-idle:
			return ProcessRecordsInput{Checkpointer: c.cp}, readIdle
		case <-c.h.quit:
			return in, readStopped
		}
	}
}

// fanOutBatch turns an event into a batch. The event's records are handed
// on as they are: they stay valid until the next receive, which follows
// ProcessRecords.
func (c *shardConsumer) fanOutBatch(ev SubscribeToShardEvent) ProcessRecordsInput {
	in := ProcessRecordsInput{Records: ev.Records, Checkpointer: c.cp, MillisBehindLatest: ev.MillisBehindLatest}
	if n := len(ev.Records); n > 0 {
		first := ev.Records[0].SequenceNumber.n.Counter - 1 // a record's position
		if first > c.pos {
			in.Lost = c.sh.lost(c.pos, first)
		}
		c.cp.last = ev.Records[n-1].SequenceNumber
		c.pos = c.cp.last.n.Counter
	}
	return in
}

// closeSub ends the shard consumer's subscription, if any.
func (c *shardConsumer) closeSub() {
	if c.sub != nil {
		c.sub.Close()
		c.sub = nil
	}
}
