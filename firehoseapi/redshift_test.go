package firehoseapi_test

import (
	"strings"
	"testing"

	"github.com/shardlog/shardlog/firehoseapi"
)

// FuzzPostgresCopyOptions: any Redshift COPY options turn into
// PostgreSQL's or are refused, never a panic, and what comes out quotes
// its values whole (a quote inside one doubled).
func FuzzPostgresCopyOptions(f *testing.F) {
	for _, s := range []string{"csv", "CSV IGNOREHEADER 1 GZIP", "delimiter '|' null as 'N'", "json 'auto'", "ignoreheader as 1", "delimiter 'x''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := firehoseapi.RedshiftConfig{CopyOptions: s}.PostgresCopyOptions()
		if err != nil {
			return
		}
		if strings.Count(out, "'")%2 != 0 {
			t.Fatalf("%q became %q, its quotes unbalanced", s, out)
		}
		if out != "" && !strings.HasPrefix(out, "FORMAT csv") && !strings.HasPrefix(out, "DELIMITER") && !strings.HasPrefix(out, "NULL") {
			t.Fatalf("%q became %q", s, out)
		}
	})
}
