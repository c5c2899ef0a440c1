package firehoseapi

import (
	"fmt"
	"regexp"
	"strings"
)

// Columns are DataTableColumns, split at commas and trimmed.
func (c RedshiftConfig) Columns() []string {
	var out []string
	for _, col := range strings.Split(c.DataTableColumns, ",") {
		if col = strings.TrimSpace(col); col != "" {
			out = append(out, col)
		}
	}
	return out
}

var (
	copyWord  = regexp.MustCompile(`(?i)^\s*(csv|gzip|ignoreheader\s+(?:as\s+)?1|delimiter\s+(?:as\s+)?'([^']*)'|null\s+as\s+'([^']*)')\s*`)
	copyQuote = strings.NewReplacer("'", "''")
)

// PostgresCopyOptions turns the Redshift COPY options into PostgreSQL's,
// for a COPY … WITH (…), where they mean the same: CSV, DELIMITER, NULL
// AS, IGNOREHEADER 1 (with CSV) and GZIP (which an object's .gz already
// says). Others are refused.
func (c RedshiftConfig) PostgresCopyOptions() (string, error) {
	var out []string
	csv, header := false, false
	for s := strings.TrimSpace(c.CopyOptions); s != ""; {
		m := copyWord.FindStringSubmatch(s)
		if m == nil {
			return "", fmt.Errorf("the COPY option %q has no PostgreSQL equivalent here (CSV, DELIMITER, NULL AS, IGNOREHEADER 1 and GZIP have)", s)
		}
		s = s[len(m[0]):]
		switch strings.ToLower(strings.Fields(m[1])[0]) {
		case "csv":
			csv = true
		case "gzip": // the object's .gz says so
		case "ignoreheader":
			header = true
		case "delimiter":
			out = append(out, "DELIMITER '"+copyQuote.Replace(m[2])+"'")
		case "null":
			out = append(out, "NULL '"+copyQuote.Replace(m[3])+"'")
		}
	}
	if csv {
		out = append([]string{"FORMAT csv"}, out...)
	}
	if header {
		if !csv {
			return "", fmt.Errorf("IGNOREHEADER needs CSV here: PostgreSQL skips a header in CSV only")
		}
		out = append(out, "HEADER true")
	}
	return strings.Join(out, ", "), nil
}
