module github.com/shardlog/shardlog

go 1.23.0

require (
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/google/btree v1.1.3
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.11.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
