// Package shardlog is Amazon Kinesis Data Streams embedded in a Go process:
// streams of ordered records split into shards by hash key, with Kinesis's
// formats, limits and errors, on a clock the caller can control.
package shardlog
