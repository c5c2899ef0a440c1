package streamsql

import "testing"

// FuzzParse: any text parses or fails with an Error inside the query;
// never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`SELECT STREAM page, COUNT(*) FROM "clicks" WHERE ms > 1 GROUP BY page, STEP("clicks".ROWTIME BY INTERVAL '1' MINUTE)`,
		`select stream count(distinct u) from s group by hop(t, interval '1' second, interval '5' second)`,
		`SELECT STREAM APPROX_PERCENTILE(x, 0.5) AS p FROM s WHERE (a IS NOT NULL OR NOT b <> 'x''y') GROUP BY SESSION(ROWTIME, INTERVAL '3' SECOND)`,
		"SELECT STREAM -- comment\n COUNT(*) FROM s GROUP BY FLOOR(ROWTIME TO HOUR);",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Pos < 0 || e.Pos > len(query) || e.Line < 1 || e.Column < 1 {
				t.Fatalf("%q: %v", query, err)
			}
			return
		}
		if q.window.kind == 0 || len(q.items) == 0 {
			t.Fatalf("%q parsed without a window or items", query)
		}
	})
}
