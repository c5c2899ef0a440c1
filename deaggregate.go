package shardlog

import (
	"slices"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/kpl"
)

// UserRecord is a record as its producer put it. A producer using the
// Kinesis Producer Library's aggregation packs many user records into one
// Kinesis record (the magic bytes F3 89 9A C2, a protobuf AggregatedRecord
// and an MD5); Deaggregate unpacks them, as the Kinesis Client Library
// does. Each carries the Kinesis record's sequence number and arrival time,
// and its place in the aggregate.
type UserRecord struct {
	Record // the user record's key and data, with its Kinesis record's number, shard and time
	// SubSequenceNumber is the user record's index in its aggregate (0 for
	// a record that was not aggregated).
	SubSequenceNumber int64
	ExplicitHashKey   string // the user record's own, if it has one
	Aggregated        bool   // it came out of an aggregate
}

// Deaggregate appends to dst the user records in r: those of its aggregate
// if r is a KPL aggregate, else r itself. A record that starts with the
// magic bytes but whose MD5 or contents do not check out is not an
// aggregate, as for the Kinesis Client Library. The user records share r's
// data.
func Deaggregate(dst []UserRecord, r Record) []UserRecord {
	n := len(dst)
	err := kpl.Decode(r.Data, func(u kpl.UserRecord) bool {
		rec := r
		rec.PartitionKey, rec.Data = u.PartitionKey, u.Data
		dst = append(dst, UserRecord{Record: rec, SubSequenceNumber: int64(len(dst) - n), ExplicitHashKey: u.ExplicitHashKey, Aggregated: true})
		return true
	})
	if err != nil {
		dst = append(dst[:n], UserRecord{Record: r})
	}
	return dst
}

// AggregateRecords packs user records into the data of one Kinesis record,
// as the Kinesis Producer Library does: put it with the first record's
// partition key (or any) and consumers that deaggregate get the records
// back. Only PartitionKey, ExplicitHashKey and Data of each are used.
func AggregateRecords(records []PutInput) []byte {
	in := make([]kpl.UserRecord, len(records))
	for i, r := range records {
		in[i] = kpl.UserRecord{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data}
	}
	return kpl.Encode(in)
}

// deaggregator unpacks a shard consumer's batches.
type deaggregator struct {
	users   []UserRecord
	owns    func(hashkey.Key) bool // whether a hash key is the shard's
	hash    func(partitionKey string) hashkey.Key
	skipSeq SequenceNumber // resuming inside this aggregate...
	skipSub int64          // ...after this user record
}

// batch unpacks records, leaving out the user records checkpointed already
// (skipSeq and skipSub, set when the shard resumed inside an aggregate)
// and, as the Kinesis Client Library does, aggregated ones whose hash key
// belongs to another shard (an aggregate made for the shards before a
// reshard). The result is reused by the next call.
func (d *deaggregator) batch(records []Record) []UserRecord {
	d.users = slices.Grow(d.users[:0], len(records)) // at least one user record each: grown once, not doubled
	for _, r := range records {
		from := len(d.users)
		d.users = Deaggregate(d.users, r)
		kept := d.users[:from]
		for _, u := range d.users[from:] {
			if !d.skipSeq.IsZero() && u.SequenceNumber == d.skipSeq && u.SubSequenceNumber <= d.skipSub {
				continue
			}
			if u.Aggregated {
				k := d.hash(u.PartitionKey)
				if u.ExplicitHashKey != "" {
					if ek, err := hashkey.Parse(u.ExplicitHashKey); err == nil {
						k = ek
					}
				}
				if !d.owns(k) {
					continue
				}
			}
			kept = append(kept, u)
		}
		d.users = kept
	}
	d.skipSeq = SequenceNumber{}
	return d.users
}
