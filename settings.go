package shardlog

import (
	"context"
	"slices"
	"strings"
	"time"
)

// StreamMode is a stream's capacity mode.
type StreamMode string

// Capacity modes. An ON_DEMAND stream refuses manual resharding and scales
// by itself, as on AWS (see capacity.go for the rules).
const (
	Provisioned StreamMode = "PROVISIONED"
	OnDemand    StreamMode = "ON_DEMAND"
)

// onDemandShards is how many shards an ON_DEMAND stream starts with.
const onDemandShards = 4

// settings are a stream's reported configuration; guarded by Stream.mu.
type settings struct {
	mode       StreamMode
	encryption EncryptionType
	keyID      string
	metrics    []string // enhanced monitoring's shard-level metrics
}

// UpdateStreamMode switches the stream between PROVISIONED and ON_DEMAND,
// keeping its shards; the stream is UPDATING for the update delay, and
// writes and reads go on meanwhile. An ON_DEMAND stream scales by itself
// from then on; a PROVISIONED one keeps the shards it has.
//
// Errors: ErrValidation for another mode, ErrResourceInUse unless ACTIVE,
// ErrLimitExceeded for a 51st ON_DEMAND stream in the account or a third
// switch in a rolling 24 hours (AWS allows two).
func (s *Stream) UpdateStreamMode(ctx context.Context, mode StreamMode) error {
	if _, err := s.begin(ctx, "UpdateStreamMode"); err != nil {
		return err
	}
	if mode != Provisioned && mode != OnDemand {
		return validation("streamModeDetails.streamMode", string(mode), "satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	}
	if mode == OnDemand {
		// Streams become ON_DEMAND only under the account's lock, so the
		// count cannot change before this stream's switch.
		a := s.acct
		a.mu.Lock()
		defer a.mu.Unlock()
		if s.mode() != OnDemand {
			if err := a.checkOnDemandLimitLocked(a.cfg.clock.Now()); err != nil {
				return err
			}
		}
	}
	return s.update(ctx, func(now time.Time) error {
		if s.settings.mode != mode {
			s.modeSwitches = slices.DeleteFunc(s.modeSwitches, func(t time.Time) bool { return now.Sub(t) >= 24*time.Hour })
			if len(s.modeSwitches) >= modeSwitchesPerDay {
				return newError(ErrLimitExceeded, "Exceeded the limit of %d UpdateStreamMode operations in a rolling 24-hour period for stream %s under account %s.", modeSwitchesPerDay, s.name, s.acct.cfg.accountID)
			}
			s.modeSwitches = append(s.modeSwitches, now)
		}
		s.settings.mode = mode
		s.onCommit = append(s.onCommit, func() {
			s.scale.follow(mode, now)
			s.acct.cfg.log.Info("shardlog: changed a stream's capacity mode", "stream", s.name, "mode", mode)
		})
		return nil
	})
}

// modeSwitchesPerDay is how many times a stream may change its capacity
// mode in a rolling 24 hours.
const modeSwitchesPerDay = 2

// EncryptionType is how a stream's records are encrypted: Kinesis's
// EncryptionType.
type EncryptionType string

// Encryption types.
const (
	EncryptionNone EncryptionType = "NONE"
	EncryptionKMS  EncryptionType = "KMS"
)

// StartStreamEncryption encrypts the records put to the stream from now on
// with the KMS key keyID (a key ID, an alias such as alias/aws/kinesis, or
// the ARN of either): with a key ring (WithKeyRing), each record's data is
// sealed with AES-256-GCM under a data key that the ring's master key for
// keyID wraps; without one, records are stored as they are. Either way
// EncryptionType becomes KMS in the stream's description and in put and
// read results. Records written before stay readable as they were.
//
// Errors: ErrValidation unless encryptionType is KMS and keyID is 1 to
// 2048 characters; ErrResourceInUse unless the stream is ACTIVE;
// ErrKMSNotFound for a key the ring lacks, ErrKMSDisabled for a disabled
// one.
func (s *Stream) StartStreamEncryption(ctx context.Context, encryptionType EncryptionType, keyID string) error {
	if _, err := s.begin(ctx, "StartStreamEncryption"); err != nil {
		return err
	}
	if err := checkEncryption(encryptionType, keyID); err != nil {
		return err
	}
	var master *masterKey
	if ring := s.acct.cfg.keyRing; ring != nil {
		var err error
		if master, err = ring.resolve(keyID); err != nil {
			return err
		}
		if err := master.usable(); err != nil {
			return err
		}
	}
	return s.updateSettings(ctx, func(st *settings) error {
		if master != nil {
			d, err := s.keyForLocked(master)
			if err != nil {
				return err
			}
			s.crypto.current.Store(d)
		}
		st.encryption, st.keyID = EncryptionKMS, strings.Clone(keyID)
		s.kms.Store(true)
		return nil
	})
}

// StopStreamEncryption stores the records put from now on as they come.
// keyID must name the key the stream is encrypted with (in any of its
// forms, see StartStreamEncryption); stopping a stream that is not
// encrypted is no error.
//
// Errors: ErrValidation as StartStreamEncryption; ErrInvalidArgument for
// a key other than the stream's; ErrResourceInUse unless the stream is
// ACTIVE.
func (s *Stream) StopStreamEncryption(ctx context.Context, encryptionType EncryptionType, keyID string) error {
	if _, err := s.begin(ctx, "StopStreamEncryption"); err != nil {
		return err
	}
	if err := checkEncryption(encryptionType, keyID); err != nil {
		return err
	}
	return s.updateSettings(ctx, func(st *settings) error {
		if st.encryption == EncryptionKMS && !s.acct.sameKey(keyID, st.keyID) {
			return newError(ErrInvalidArgument, "KeyId %s does not match the key %s that stream %s under account %s is encrypted with.",
				keyID, st.keyID, s.name, s.acct.cfg.accountID)
		}
		st.encryption, st.keyID = EncryptionNone, ""
		s.kms.Store(false)
		s.crypto.current.Store(nil)
		return nil
	})
}

// sameKey reports whether two references name one KMS key: through the
// key ring if there is one, else by the key ID or alias they spell, with
// or without its ARN.
func (a *Account) sameKey(x, y string) bool {
	if ring := a.cfg.keyRing; ring != nil {
		kx, errx := ring.resolve(x)
		ky, erry := ring.resolve(y)
		if errx == nil && erry == nil {
			return kx == ky
		}
	}
	return keyName(x) == keyName(y)
}

// keyName is what a key reference names: "key/ID" or "alias/NAME".
func keyName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if parts := strings.SplitN(ref, ":", 6); len(parts) == 6 {
			ref = parts[5]
		}
	}
	if !strings.HasPrefix(ref, "alias/") && !strings.HasPrefix(ref, "key/") {
		ref = "key/" + ref
	}
	return ref
}

func checkEncryption(typ EncryptionType, keyID string) error {
	switch {
	case typ != EncryptionKMS:
		return validation("encryptionType", string(typ), "satisfy enum value set: [NONE, KMS]")
	case keyID == "":
		return validation("keyId", "", "have length greater than or equal to 1")
	case len(keyID) > 2048:
		return validation("keyId", keyID, "have length less than or equal to 2048")
	}
	return nil
}

// ShardLevelMetrics are the names enhanced monitoring accepts.
var shardLevelMetrics = []string{
	"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
}

// EnhancedMonitoringOutput reports the shard-level metrics before and after
// a change.
type EnhancedMonitoringOutput struct {
	StreamName               string
	StreamARN                string
	CurrentShardLevelMetrics []string
	DesiredShardLevelMetrics []string
}

// EnableEnhancedMonitoring adds shard-level metrics ("ALL" means every
// one): from then on the stream publishes them per shard, as CloudWatch
// does (see [Account.GetMetricStatistics]).
func (s *Stream) EnableEnhancedMonitoring(ctx context.Context, metrics []string) (EnhancedMonitoringOutput, error) {
	if _, err := s.begin(ctx, "EnableEnhancedMonitoring"); err != nil {
		return EnhancedMonitoringOutput{}, err
	}
	return s.changeMetrics(ctx, metrics, true)
}

// DisableEnhancedMonitoring removes shard-level metrics ("ALL" means every
// one).
func (s *Stream) DisableEnhancedMonitoring(ctx context.Context, metrics []string) (EnhancedMonitoringOutput, error) {
	if _, err := s.begin(ctx, "DisableEnhancedMonitoring"); err != nil {
		return EnhancedMonitoringOutput{}, err
	}
	return s.changeMetrics(ctx, metrics, false)
}

func (s *Stream) changeMetrics(ctx context.Context, metrics []string, enable bool) (EnhancedMonitoringOutput, error) {
	if len(metrics) == 0 || len(metrics) > 7 {
		return EnhancedMonitoringOutput{}, validation("shardLevelMetrics", "", "have length between 1 and 7")
	}
	var names []string
	for _, m := range metrics {
		switch {
		case m == "ALL":
			names = append(names, shardLevelMetrics...)
		case slices.Contains(shardLevelMetrics, m):
			names = append(names, m)
		default:
			return EnhancedMonitoringOutput{}, validation("shardLevelMetrics", m,
				"satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]")
		}
	}
	out := EnhancedMonitoringOutput{StreamName: s.name, StreamARN: s.arn}
	err := s.updateSettings(ctx, func(st *settings) error {
		out.CurrentShardLevelMetrics = slices.Clone(st.metrics)
		var next []string
		for _, m := range shardLevelMetrics { // keep AWS's order
			on, named := slices.Contains(st.metrics, m), slices.Contains(names, m)
			if enable && (on || named) || !enable && on && !named {
				next = append(next, m)
			}
		}
		st.metrics = next
		s.enhanced.Store(monitorBits(next))
		out.DesiredShardLevelMetrics = slices.Clone(next)
		return nil
	})
	if out.CurrentShardLevelMetrics == nil {
		out.CurrentShardLevelMetrics = []string{}
	}
	if out.DesiredShardLevelMetrics == nil {
		out.DesiredShardLevelMetrics = []string{}
	}
	return out, err
}

// updateSettings changes the stream's settings if it is ACTIVE, and marks
// it UPDATING for the update delay.
func (s *Stream) updateSettings(ctx context.Context, change func(*settings) error) error {
	return s.update(ctx, func(time.Time) error {
		if err := change(&s.settings); err != nil {
			return err
		}
		st := s.settings
		s.onCommit = append(s.onCommit, func() {
			s.acct.cfg.log.Info("shardlog: changed a stream's settings", "stream", s.name,
				"mode", st.mode, "encryption", st.encryption, "metrics", st.metrics)
		})
		return nil
	})
}

// encryptionType returns "KMS" or "NONE" without taking the stream's lock,
// for the put and read paths.
func (s *Stream) encryptionType() EncryptionType {
	if s.kms.Load() {
		return EncryptionKMS
	}
	return EncryptionNone
}

// mode returns the stream's capacity mode.
func (s *Stream) mode() StreamMode {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings.mode
}

// currentSettings returns a copy of the stream's settings (DescribeStreamSummary
// reports them).
func (s *Stream) currentSettings() settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.settings
	c.metrics = slices.Clone(c.metrics)
	return c
}
