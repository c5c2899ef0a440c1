module github.com/shardlog/shardlog

go 1.23.0

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/btree v1.1.3 // indirect
	golang.org/x/time v0.11.0 // indirect
)
