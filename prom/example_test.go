package prom_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/prom"
)

// A service that embeds a stream exports its metrics beside its own; serve
// the registry with promhttp.HandlerFor.
func ExampleNewCollector() {
	ctx := context.Background()
	s, _ := shardlog.NewStream("orders", 1)
	defer s.Close()
	for _, order := range []string{"#1", "#2"} {
		s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte(order)})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(s.Account()))
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "shardlog_incoming_records" {
			m := f.GetMetric()[0]
			fmt.Println(m.GetLabel()[0].GetValue(), "records:", m.GetSummary().GetSampleSum(), "puts:", m.GetSummary().GetSampleCount())
		}
	}
	// Output:
	// orders records: 2 puts: 2
}
