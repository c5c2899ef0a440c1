package firehose

import "testing"

// FuzzQuery: any query either parses or is refused with InvalidArgument,
// never a panic; a parsed one gives each record a value per key, or an
// error.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{`{k: .k}`, `{customer: .customer.id, "kind": .["event-kind"]}`, `{k .k}`, `{k: 1}`, `{`, `{"\u00e9": .a.b.c}`} {
		f.Add(q, `{"k":"v","customer":{"id":7},"event-kind":true,"a":{"b":{"c":[1]}}}`)
	}
	f.Fuzz(func(t *testing.T, src, record string) {
		q, err := parseQuery(src)
		if err != nil {
			if q != nil {
				t.Fatalf("%q: a query and an error", src)
			}
			return
		}
		values, err := q.keys([]byte(record), nil)
		if err == nil && len(values) != len(q) {
			t.Fatalf("%q on %q: %d values for %d keys", src, record, len(values), len(q))
		}
	})
}
