package pgcopy

import "testing"

func TestStatement(t *testing.T) {
	for _, tc := range []struct {
		table   string
		columns []string
		options string
		want    string
	}{
		{"orders", nil, "", `COPY "orders" FROM STDIN`},
		{"sales.orders", []string{"id", "note"}, "FORMAT csv", `COPY "sales"."orders" ("id", "note") FROM STDIN WITH (FORMAT csv)`},
		{`we"ird`, []string{"a\x00b"}, "", `COPY "we""ird" ("ab") FROM STDIN`},
		{`x"; DROP TABLE t; --`, nil, "", `COPY "x""; DROP TABLE t; --" FROM STDIN`},
	} {
		if got := Statement(tc.table, tc.columns, tc.options); got != tc.want {
			t.Errorf("Statement(%q, %q, %q) = %s, want %s", tc.table, tc.columns, tc.options, got, tc.want)
		}
	}
}
