// Package pgcopy writes the PostgreSQL COPY statement that loads a
// delivered object into a table, for module postgres (through pgx) and
// for shardlogd (through psql's \copy) alike.
package pgcopy

import "strings"

// Statement returns "COPY table (columns) FROM STDIN WITH (options)",
// the table (schema-qualified with a dot, or not) and the columns quoted as
// identifiers; no columns and no options leave their parts out. options is
// PostgreSQL's option list, already checked.
func Statement(table string, columns []string, options string) string {
	var b strings.Builder
	b.WriteString("COPY ")
	for i, part := range strings.Split(table, ".") {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Ident(part))
	}
	if len(columns) > 0 {
		b.WriteString(" (")
		for i, c := range columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Ident(c))
		}
		b.WriteByte(')')
	}
	b.WriteString(" FROM STDIN")
	if options != "" {
		b.WriteString(" WITH (" + options + ")")
	}
	return b.String()
}

// Ident quotes name as a PostgreSQL identifier: in double quotes, its own
// doubled, NUL bytes (which no identifier may hold) left out, as pgx does.
func Ident(name string) string {
	name = strings.ReplaceAll(name, "\x00", "")
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
