// Package agent does the Kinesis Agent's job: it tails log files into
// streams, through rotation and crashes, nothing lost.
//
// Its configuration is the Kinesis Agent's agent.json (ParseConfig): flows
// of files, matched by a glob, into streams, with the agent's batching
// options. Each file is known by its device, inode and a fingerprint of its
// first bytes, so that it is followed through a rename (logrotate's
// default), drained after it is deleted or rotated away, read again from
// its start after copytruncate, and not mistaken for a new file that
// reuses its inode. A line becomes a record (or, with a multi-line
// pattern, a line that matches it and the lines after it); a last line
// without its newline waits for it up to five seconds.
//
// Records go through package producer to any shardlog.StreamAPI: an
// embedded durable stream, shardlogd, or Amazon Kinesis (package aws). How
// far each file is acknowledged is written to the checkpoint file
// (atomically, synced) at most once a second and at Close, only up to
// records every one of which before it was acknowledged: after a crash the
// agent sends again at most what was not yet acknowledged, never leaving a
// gap or sending a torn line. A record that fails is sent again until it
// is stored.
package agent
