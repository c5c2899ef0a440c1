package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlog/shardlog/agent"
)

// NewAgentCollector returns a collector of agents' metrics (package
// agent): shardlog_agent_records_parsed_total,
// shardlog_agent_records_sent_total,
// shardlog_agent_record_send_errors_total (records sent again after a
// failure, the Kinesis Agent's RecordSendErrors),
// shardlog_agent_bytes_sent_total, and shardlog_agent_lag_bytes{stream,file}
// (what each file has that is not yet acknowledged).
func NewAgentCollector(agents ...*agent.Agent) prometheus.Collector { return agentCollector(agents) }

type agentCollector []*agent.Agent

var (
	agentParsed = prometheus.NewDesc("shardlog_agent_records_parsed_total",
		"Records the agent made of lines in the files it tails.", nil, nil)
	agentSent = prometheus.NewDesc("shardlog_agent_records_sent_total",
		"Records acknowledged by their stream.", nil, nil)
	agentErrors = prometheus.NewDesc("shardlog_agent_record_send_errors_total",
		"Records whose send failed, and that were sent again.", nil, nil)
	agentBytes = prometheus.NewDesc("shardlog_agent_bytes_sent_total",
		"Bytes of the records acknowledged.", nil, nil)
	agentLag = prometheus.NewDesc("shardlog_agent_lag_bytes",
		"Bytes of a tailed file not yet acknowledged by its stream.", []string{"stream", "file"}, nil)
)

func (agentCollector) Describe(chan<- *prometheus.Desc) {}

func (c agentCollector) Collect(ch chan<- prometheus.Metric) {
	var t agent.Totals
	for _, a := range c {
		at := a.Totals()
		t.RecordsParsed += at.RecordsParsed
		t.RecordsSent += at.RecordsSent
		t.RecordsFailed += at.RecordsFailed
		t.BytesSent += at.BytesSent
		for _, f := range a.Files() {
			ch <- prometheus.MustNewConstMetric(agentLag, prometheus.GaugeValue, float64(f.LagBytes), f.Stream, f.Path)
		}
	}
	ch <- prometheus.MustNewConstMetric(agentParsed, prometheus.CounterValue, float64(t.RecordsParsed))
	ch <- prometheus.MustNewConstMetric(agentSent, prometheus.CounterValue, float64(t.RecordsSent))
	ch <- prometheus.MustNewConstMetric(agentErrors, prometheus.CounterValue, float64(t.RecordsFailed))
	ch <- prometheus.MustNewConstMetric(agentBytes, prometheus.CounterValue, float64(t.BytesSent))
}
