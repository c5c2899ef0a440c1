package shardlog

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/shardlog/shardlog/internal/vfs"
)

// Option configures an [Account] (or the account behind [NewStream]).
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	clock         Clock
	region        string
	accountID     string
	shardLimit    int
	limits        Limits
	maxRecordSize int
	maxBatchSize  int
	delays        Delays
	hasher        Hasher
	retention     time.Duration
	bound         SizeBound // per stream
	accountBound  SizeBound // all streams together
	janitor       time.Duration
	heartbeat     time.Duration
	dir           string     // durable: the directory; "" in memory
	sync          SyncPolicy // durable: when writes reach stable storage
	segmentSize   int        // durable: the largest segment file
	readOnly      bool       // durable: change nothing (WithReadOnly)
	log           *slog.Logger
	fs            vfs.FS
	access        bool     // WithAccessControl
	keyRing       *KeyRing // WithKeyRing; nil: encryption is a setting only
}

func defaultConfig() config {
	return config{
		clock:         SystemClock(),
		region:        "us-east-1",
		accountID:     "000000000000",
		shardLimit:    defaultShardLimit,
		limits:        AWSLimits(),
		maxRecordSize: 1 << 20,
		maxBatchSize:  5 << 20,
		hasher:        MD5,
		retention:     DefaultRetention,
		heartbeat:     5 * time.Second,
		sync:          SyncAlways,
		segmentSize:   1 << 20,
		log:           slog.New(slog.DiscardHandler),
		fs:            vfs.OS{},
	}
}

// WithClock sets the clock every time rule reads. Default: [SystemClock].
// Tests pass a [ManualClock].
func WithClock(c Clock) Option {
	return optionFunc(func(cfg *config) error {
		if c == nil {
			return fmt.Errorf("shardlog: WithClock(nil)")
		}
		cfg.clock = c
		return nil
	})
}

var regionPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// WithRegion sets the region used in ARNs. Default: "us-east-1".
func WithRegion(region string) Option {
	return optionFunc(func(cfg *config) error {
		if !regionPattern.MatchString(region) {
			return fmt.Errorf("shardlog: invalid region %q", region)
		}
		cfg.region = region
		return nil
	})
}

// WithAccountID sets the 12-digit account ID used in ARNs and messages.
// Default: "000000000000".
func WithAccountID(id string) Option {
	return optionFunc(func(cfg *config) error {
		if len(id) != 12 || !allDigits(id) {
			return fmt.Errorf("shardlog: account ID %q is not 12 digits", id)
		}
		cfg.accountID = id
		return nil
	})
}

// WithShardLimit sets the account's open-shard quota, checked by
// CreateStream and resharding. Default: 20000 (AWS's default in its largest
// regions).
func WithShardLimit(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 1 {
			return fmt.Errorf("shardlog: shard limit %d is below 1", n)
		}
		cfg.shardLimit = n
		return nil
	})
}

// WithLimits sets the per-shard throughput limits. Default: [AWSLimits].
// Pass Limits{} to turn every limit off.
func WithLimits(l Limits) Option {
	return optionFunc(func(cfg *config) error {
		if err := l.validate(); err != nil {
			return err
		}
		cfg.limits = l
		return nil
	})
}

// WithoutLimits turns every per-shard throughput limit off, for embedded use
// and benchmarks. It is WithLimits(Limits{}).
func WithoutLimits() Option { return WithLimits(Limits{}) }

// WithMaxRecordSize sets the largest record, data plus partition key, in
// bytes: 1 MiB (the default) to 10 MiB, as Kinesis's MaxRecordSizeInKiB.
func WithMaxRecordSize(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 1<<20 || n > 10<<20 {
			return fmt.Errorf("shardlog: max record size %d outside [1 MiB, 10 MiB]", n)
		}
		cfg.maxRecordSize = n
		return nil
	})
}

// WithMaxBatchSize sets the largest PutBatch request, data plus partition
// keys, in bytes: 1 MiB to 10 MiB. Default 5 MiB, the classic PutRecords
// limit (newer Kinesis documents 10 MiB).
func WithMaxBatchSize(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 1<<20 || n > 10<<20 {
			return fmt.Errorf("shardlog: max batch size %d outside [1 MiB, 10 MiB]", n)
		}
		cfg.maxBatchSize = n
		return nil
	})
}

// Delays are how long asynchronous state changes take, on the account's
// clock. The zero value (the default) makes every change immediate.
type Delays struct {
	Create             time.Duration // stream CREATING → ACTIVE
	Delete             time.Duration // stream DELETING → gone
	Update             time.Duration // stream UPDATING → ACTIVE after a reshard or retention change
	RegisterConsumer   time.Duration // consumer CREATING → ACTIVE
	DeregisterConsumer time.Duration // consumer DELETING → gone
}

// WithDelays sets the state-change delays. Default: all zero.
func WithDelays(d Delays) Option {
	return optionFunc(func(cfg *config) error {
		if d.Create < 0 || d.Delete < 0 || d.Update < 0 || d.RegisterConsumer < 0 || d.DeregisterConsumer < 0 {
			return fmt.Errorf("shardlog: negative delay in %+v", d)
		}
		cfg.delays = d
		return nil
	})
}

// WithHeartbeat sets how often an idle subscription sends an empty event,
// so consumers can checkpoint. Default: 5 seconds.
func WithHeartbeat(d time.Duration) Option {
	return optionFunc(func(cfg *config) error {
		if d <= 0 {
			return fmt.Errorf("shardlog: heartbeat %v is not positive", d)
		}
		cfg.heartbeat = d
		return nil
	})
}

// Hasher maps a partition key to a hash key, which picks the shard.
type Hasher int

const (
	// MD5 is Kinesis's mapping: the MD5 digest of the key as a 128-bit
	// big-endian integer. Records land on the same shard as on AWS. Default.
	MD5 Hasher = iota
	// XXHash spreads keys with xxhash64, several times faster than MD5 but
	// with a placement that differs from AWS. For embedded logs that never
	// compare shard placement with Kinesis.
	XXHash
)

// WithHasher sets how partition keys map to hash keys. Default: [MD5].
// ExplicitHashKey always overrides it.
func WithHasher(h Hasher) Option {
	return optionFunc(func(cfg *config) error {
		if h != MD5 && h != XXHash {
			return fmt.Errorf("shardlog: unknown hasher %d", h)
		}
		cfg.hasher = h
		return nil
	})
}

// WithRetention sets the retention period new streams start with (24 to
// 8760 hours). Default: 24 hours, as Kinesis.
func WithRetention(d time.Duration) Option {
	return optionFunc(func(cfg *config) error {
		if d < MinRetention || d > MaxRetention || d%time.Hour != 0 {
			return fmt.Errorf("shardlog: retention %v is not a whole number of hours in [24h, 8760h]", d)
		}
		cfg.retention = d
		return nil
	})
}

// EmbeddedLog is the profile of an event log embedded in a service, rather
// than an emulation of Kinesis: no throughput limits (as [WithoutLimits]),
// and streams that keep records for retention, which may be any positive
// duration, shorter than Kinesis's 24 hours too. Add [WithSizeBound] to cap
// what the log holds and [WithDir] to keep it across restarts:
//
//	log, err := shardlog.NewStream("events", 4,
//		shardlog.EmbeddedLog(10*time.Minute),
//		shardlog.WithSizeBound(shardlog.SizeBound{Bytes: 256 << 20}),
//		shardlog.WithDir(dir))
//
// Everything else, the API and its errors included, stays Kinesis's; the
// retention calls (Increase/DecreaseStreamRetentionPeriod) take whole hours
// in Kinesis's range. Without this option an account keeps Kinesis's
// limits and retention rules.
func EmbeddedLog(retention time.Duration) Option {
	return optionFunc(func(cfg *config) error {
		if retention <= 0 {
			return fmt.Errorf("shardlog: retention %v is not positive", retention)
		}
		cfg.limits = Limits{}
		cfg.retention = retention
		return nil
	})
}

// WithJanitor starts a janitor that calls ApplyRetention every interval of
// the account's clock, so idle shards release expired records too, and in a
// durable account the memory of their records. Default: off (expiry happens
// as shards are used, and on ApplyRetention). The janitor stops on Close.
func WithJanitor(interval time.Duration) Option {
	return optionFunc(func(cfg *config) error {
		if interval <= 0 {
			return fmt.Errorf("shardlog: janitor interval %v is not positive", interval)
		}
		cfg.janitor = interval
		return nil
	})
}

// WithSizeBound bounds every stream of the account: when a write takes a
// stream over either limit of b, its oldest records (by arrival, across its
// shards) are dropped until it is back under both, less a sixteenth, so
// that dropping runs once per sixteenth of the bound rather than on every
// write. Default: no bound. This goes beyond Kinesis, where only retention
// removes records; it keeps an embedded log within a fixed memory budget
// under any write rate.
func WithSizeBound(b SizeBound) Option {
	return optionFunc(func(cfg *config) error {
		if err := b.validate(); err != nil {
			return err
		}
		cfg.bound = b
		return nil
	})
}

// WithAccountSizeBound bounds all the streams of the account together, as
// WithSizeBound bounds each: past either limit the oldest records of the
// whole account are dropped first, whichever stream holds them. Default: no
// bound. shardlogd sets one so that no client can make it exhaust the
// machine's memory.
func WithAccountSizeBound(b SizeBound) Option {
	return optionFunc(func(cfg *config) error {
		if err := b.validate(); err != nil {
			return err
		}
		cfg.accountBound = b
		return nil
	})
}

// WithDir makes the account durable: its streams, records, consumers and
// everything else Kinesis keeps survive Close, a process crash, and (with
// SyncAlways, the default) a power loss. An empty or missing dir starts an
// empty account; one that holds an account opens it, with what it held.
// Opening fails with a clear error if another account (in this process or
// another) has dir open, if its manifest is missing or garbled, or if it was
// written by a newer format. Records older than a window of recent segment
// files are read back from the files when needed: memory grows with the
// number of records (about 25 bytes each), not with their size. Durable
// accounts need a unix system.
func WithDir(dir string) Option {
	return optionFunc(func(cfg *config) error {
		if dir == "" {
			return fmt.Errorf("shardlog: WithDir(\"\")")
		}
		cfg.dir = dir
		return nil
	})
}

// WithSync sets when a durable account's writes reach stable storage.
// Default: SyncAlways.
func WithSync(p SyncPolicy) Option {
	return optionFunc(func(cfg *config) error {
		if p.kind == syncMemory || p.kind == syncEvery && p.every <= 0 {
			return fmt.Errorf("shardlog: invalid sync policy %v", p)
		}
		cfg.sync = p
		return nil
	})
}

// WithSegmentSize sets the largest segment file of a durable account (a
// record larger than it gets a file of its own), from 64 KiB to 1 GiB.
// Default: 1 MiB. Larger files mean fewer of them and fewer syncs of
// directories, and more memory per shard being written.
func WithSegmentSize(n int) Option {
	return optionFunc(func(cfg *config) error {
		if n < 64<<10 || n > 1<<30 {
			return fmt.Errorf("shardlog: segment size %d outside [64 KiB, 1 GiB]", n)
		}
		cfg.segmentSize = n
		return nil
	})
}

// WithLogger sets where the account logs what it must (a torn file found
// when opening, a failed sync). Default: nowhere.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(cfg *config) error {
		if l == nil {
			return fmt.Errorf("shardlog: WithLogger(nil)")
		}
		cfg.log = l
		return nil
	})
}

// WithReadOnly opens a durable account (WithDir) without changing
// anything in its directory, for inspection and backups: its streams and
// records read as they are, what opening finds damaged is reported
// (Account.Recovery) but nothing is repaired, cut or deleted, and every
// change fails with InternalFailure, for which errors.Is(err, ErrReadOnly)
// holds. Any number of read-only accounts may have a directory open at
// once, but none while an account that writes has it (and the other way
// round). The directory must hold an account.
func WithReadOnly() Option {
	return optionFunc(func(cfg *config) error {
		cfg.readOnly = true
		return nil
	})
}

// WithAccessControl turns access control on: calls that carry a Caller
// (WithCaller) are decided by the policies of its principal and of the
// resource, as IAM decides them, and denied calls fail with
// ErrAccessDenied in AWS's words. kinesisapi then requires every request
// to be signed (SigV4) with an access key of the account (PutAccessKey),
// and makes the key's principal the request's Caller. Calls without a
// Caller — the application's own, in process — act as the account's root
// user and are not checked. Off by default: any call is allowed.
func WithAccessControl() Option {
	return optionFunc(func(cfg *config) error {
		cfg.access = true
		return nil
	})
}

// WithKeyRing makes StartStreamEncryption really encrypt: records put to an
// encrypted stream are sealed with a data key that a master key of ring
// wraps, in memory and in a durable account's files alike, and a missing,
// disabled or wrong key fails puts and reads with the KMS exceptions. A
// durable account keeps the wrapped data keys, never the master keys: give
// it the same ring (LoadKeyRing) each time it opens. Without a key ring,
// encryption is a setting only: records are stored in the clear.
func WithKeyRing(ring *KeyRing) Option {
	return optionFunc(func(cfg *config) error {
		if ring == nil {
			return fmt.Errorf("shardlog: WithKeyRing(nil)")
		}
		cfg.keyRing = ring
		return nil
	})
}
