package shardlog

import "time"

// retention returns how long the stream keeps records.
func (s *Stream) retention() time.Duration { return s.acct.cfg.retention }
