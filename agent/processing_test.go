package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/agent"
)

// process runs the options (a JSON array) over one record, through an
// agent, and returns what reached the stream ("" if it was dropped).
func process(t *testing.T, options, record string) string {
	t.Helper()
	r := newRig(t, strings.Replace(basic, `"maxBufferAgeMillis": 1000`, `"maxBufferAgeMillis": 1000, "dataProcessingOptions": `+options, 1))
	r.write("app.log", record)
	r.clk.Advance(5 * time.Second)
	r.sync()
	got := r.lines()
	require.LessOrEqual(t, len(got), 1)
	if len(got) == 0 {
		return ""
	}
	return got[0]
}

func TestLogToJSON(t *testing.T) {
	for _, c := range []struct{ format, line, want string }{
		{"COMMONAPACHELOG", `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326` + "\n",
			`{"host":"127.0.0.1","ident":null,"authuser":"frank","datetime":"10/Oct/2000:13:55:36 -0700","request":"GET /apache_pb.gif HTTP/1.0","response":"200","bytes":"2326"}` + "\n"},
		{"COMBINEDAPACHELOG", `10.0.0.1 - - [07/Dec/2026:10:00:00 +0000] "POST /x HTTP/1.1" 201 - "http://ref/" "curl/8.0"` + "\n",
			`{"host":"10.0.0.1","ident":null,"authuser":null,"datetime":"07/Dec/2026:10:00:00 +0000","request":"POST /x HTTP/1.1","response":"201","bytes":null,"referer":"http://ref/","agent":"curl/8.0"}` + "\n"},
		{"APACHEERRORLOG", `[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /x` + "\n",
			`{"timestamp":"Fri Sep 09 10:42:29.902022 2011","module":"core","severity":"error","processid":"35708","threadid":"4328636416","client":"72.15.99.187","message":"File does not exist: /x"}` + "\n"},
		{"SYSLOG", `Mar  1 12:00:01 web1 sshd[4242]: Accepted publickey for x` + "\n",
			`{"timestamp":"Mar  1 12:00:01","hostname":"web1","program":"sshd","processid":"4242","message":"Accepted publickey for x"}` + "\n"},
		{"RFC3339SYSLOG", `2026-03-01T12:00:01.123+01:00 web1 cron: job done` + "\n",
			`{"timestamp":"2026-03-01T12:00:01.123+01:00","hostname":"web1","program":"cron","processid":null,"message":"job done"}` + "\n"},
		{"SYSLOG", "not a syslog line\n", ""},
	} {
		require.Equal(t, c.want, process(t, `[{"optionName": "LOGTOJSON", "logFormat": "`+c.format+`"}]`, c.line), c.format)
	}
	require.Equal(t, `{"a":"web1","b":"4242"}`+"\n", process(t,
		`[{"optionName": "LOGTOJSON", "logFormat": "SYSLOG", "matchPattern": "^\\S+ +\\d+ \\S+ (\\S+) \\w+\\[(\\d+)\\]", "customFieldNames": ["a", "b"]}]`,
		"Mar  1 12:00:01 web1 sshd[4242]: hi\n"))
}

func TestCSVToJSON(t *testing.T) {
	require.Equal(t, `{"id":"1","name":"\"Smith","city":" John\""}`+"\n",
		process(t, `[{"optionName": "CSVTOJSON", "customFieldNames": ["id", "name", "city"]}]`, `1,"Smith, John"`+"\n"),
		"the delimiter is a regular expression: quotes are not special, as in the Kinesis Agent")
	require.Equal(t, `{"a":"x","b":null}`+"\n", process(t, `[{"optionName": "CSVTOJSON", "customFieldNames": ["a", "b"], "delimiter": "\\t"}]`, "x\n"))
	require.Equal(t, "{\n  \"a\": \"x\"\n}\n", process(t, `[{"optionName": "CSVTOJSON", "customFieldNames": ["a"], "jsonFormat": "PRETTYPRINT"}]`, "x,y\n"))
}

func TestSingleLineAndMetadata(t *testing.T) {
	r := newRig(t, strings.Replace(basic, `"maxBufferAgeMillis": 1000`, `"maxBufferAgeMillis": 1000, "multiLineStartPattern": "^[A-Z]",
	  "dataProcessingOptions": [{"optionName": "SINGLELINE"}, {"optionName": "ADDMETADATA", "metadata": {"env": "prod"}, "timestamp": "true"}]`, 1))
	r.write("app.log", "Exception: boom\n    at a.b(c)\n    at d.e(f)\n")
	r.sync()
	r.clk.Advance(5 * time.Second)                                                   // no next line came to end the record
	ts := r.clk.Now().Add(time.Second).UTC().Format("2006-01-02T15:04:05.000Z07:00") // when the next poll reads it
	r.sync()
	require.Equal(t, []string{`{"ts":"` + ts + `","metadata":{"env":"prod"},"data":"Exception: boomat a.b(c)at d.e(f)"}` + "\n"}, r.lines())
}

// TestAddEC2Metadata: ADDEC2METADATA adds the instance's fields, named as
// the option says, to JSON records (here LOGTOJSON's), after their own;
// the metadata's timestamp moves once its TTL has passed; a record that
// is not a JSON object passes unchanged.
func TestAddEC2Metadata(t *testing.T) {
	r := newRig(t, `{"checkpointFile": "DIR/checkpoints",
	  "ec2.metadata": {"privateIp": "10.0.0.7", "instanceId": "i-0abc", "region": "eu-west-1", "availabilityZone": "eu-west-1b",
	                   "tags": {"Name": "web-1", "Team": "core"}},
	  "flows": [{"filePattern": "DIR/app.log", "kinesisStream": "logs", "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000,
	    "dataProcessingOptions": [{"optionName": "ADDEC2METADATA", "instanceId": "instance", "privateIp": "ip", "region": "program",
	      "metadataTimestamp": "at", "metadataTTL": 600, "tags": {"name": "host_name", "missing": "nothing"}}]}]}`)
	r.write("app.log", `{"program":"sshd","message":"hi"}`+"\n")
	at := r.clk.Now().Add(time.Second).UTC().Format("2006-01-02T15:04:05-0700") // when the next poll reads it
	r.sync()
	require.Equal(t, []string{`{"program":"eu-west-1","message":"hi","ip":"10.0.0.7","instance":"i-0abc","at":"` + at + `","host_name":"web-1"}` + "\n"}, r.lines())

	r.clk.Advance(30 * time.Second) // within the TTL (however far waiting for acknowledgements moved the clock): the same timestamp
	r.write("app.log", `{"n":2}`+"\n")
	r.sync()
	require.Contains(t, r.lines(), `{"n":2,"ip":"10.0.0.7","instance":"i-0abc","program":"eu-west-1","at":"`+at+`","host_name":"web-1"}`+"\n")

	r.clk.Advance(11 * time.Minute) // past it: refreshed
	r.write("app.log", "not json\n")
	r.write("app.log", `{"n":3}`+"\n")
	later := r.clk.Now().Add(time.Second).UTC().Format("2006-01-02T15:04:05-0700")
	r.sync()
	require.Contains(t, r.lines(), "not json\n")
	require.Contains(t, r.lines(), `{"n":3,"ip":"10.0.0.7","instance":"i-0abc","program":"eu-west-1","at":"`+later+`","host_name":"web-1"}`+"\n")
}

func TestProcessingRefusals(t *testing.T) {
	for options, want := range map[string]string{
		`[{"optionName": "TOUPPER"}]`:                                                     `optionName "TOUPPER"`,
		`[{"optionName": "CSVTOJSON"}]`:                                                   "needs customFieldNames",
		`[{"optionName": "LOGTOJSON", "logFormat": "NGINX"}]`:                             `logFormat "NGINX"`,
		`[{"optionName": "LOGTOJSON", "logFormat": "SYSLOG", "matchPattern": "(a)"}]`:     "1 groups and customFieldNames 0",
		`[{"optionName": "LOGTOJSON", "logFormat": "SYSLOG", "customFieldNames": ["a"]}]`: "1 names for the 5 fields",
		`[{"optionName": "SINGLELINE", "jsonFormat": "YAML"}]`:                            `jsonFormat "YAML"`,
		`[{"optionName": "SINGLELINE", "parseOptions": ["SHOUT"]}]`:                       `parseOptions "SHOUT"`,
		`[{"optionName": "ADDMETADATA"}]`:                                                 "needs metadata",
		`[{"optionName": "SINGLELINE", "colour": "red"}]`:                                 `unknown field "colour"`,
		`[{"optionName": "ADDEC2METADATA", "instanceId": "id"}]`:                          `needs "ec2.metadata"`,
	} {
		_, err := agent.ParseConfig([]byte(`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "dataProcessingOptions": ` + options + `}]}`))
		require.ErrorIs(t, err, agent.ErrConfig, options)
		require.ErrorContains(t, err, want, options)
	}
}
