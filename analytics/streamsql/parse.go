package streamsql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed query: see Parse for the SQL it takes.
type Query struct {
	text   string
	source string // the stream FROM names
	items  []selectItem
	where  expr // nil: every row
	group  []column
	window windowSpec
}

// Source is the stream the query reads, as FROM names it.
func (q *Query) Source() string { return q.source }

// Columns are the names of the query's output columns, in order: each
// item's alias, else the column it names, else EXPR$<n> (n from 0) as
// Data Analytics names unnamed expressions.
func (q *Query) Columns() []string {
	names := make([]string, len(q.items))
	for i, it := range q.items {
		names[i] = it.name
	}
	return names
}

// String is the query's text.
func (q *Query) String() string { return q.text }

type selectItem struct {
	name string
	col  *column  // a grouping column
	agg  *aggCall // or an aggregate
}

// column names a field of the row: its JSON member, or ROWTIME.
type column struct {
	name   string
	quoted bool
	pos    int
}

func (c column) rowtime() bool { return !c.quoted && c.name == "ROWTIME" }

type aggCall struct {
	fn       string // COUNT, SUM, MIN, MAX, AVG, APPROX_COUNT_DISTINCT, APPROX_PERCENTILE
	distinct bool
	star     bool // COUNT(*)
	arg      expr
	q        float64 // APPROX_PERCENTILE's quantile
}

type windowKind uint8

const (
	tumble windowKind = iota + 1
	hop
	session
)

type windowSpec struct {
	kind        windowKind
	size, slide time.Duration // tumble, hop
	gap         time.Duration // session
	time        column        // ROWTIME, or an event-time column
}

// Parse parses a query of this form (keywords in any case; [] optional):
//
//	SELECT STREAM item [, item ...]
//	FROM stream
//	[WHERE condition]
//	GROUP BY [column, ...] window [, column ...]
//
// An item is a grouping column, or an aggregate — COUNT(*), COUNT(x),
// COUNT(DISTINCT x), SUM(x), MIN(x), MAX(x), AVG(x),
// APPROX_COUNT_DISTINCT(x), APPROX_PERCENTILE(x, q) — each with an
// optional AS alias. The window is one of
//
//	STEP(t BY INTERVAL 'n' unit)      tumbling, as Data Analytics SQL
//	FLOOR(t TO unit)                  tumbling by one unit
//	TUMBLE(t, INTERVAL 'n' unit)      tumbling
//	HOP(t, INTERVAL 'slide' unit, INTERVAL 'size' unit)   hopping
//	SESSION(t, INTERVAL 'gap' unit)   session
//
// where t is ROWTIME (or "stream".ROWTIME) — the time the record arrived
// in the stream — or a column holding the event time (RFC 3339 text, or
// Unix milliseconds). Units: MILLISECOND, SECOND, MINUTE, HOUR, DAY. A
// condition compares columns and literals (= <> != < <= > >=, IS [NOT]
// NULL) joined by AND, OR, NOT and parentheses. Names in double quotes
// match a JSON member exactly; others match it in any case.
//
// What is outside this subset — joins, HAVING, ORDER BY, OVER windows,
// arithmetic, functions other than the aggregates — is refused with an
// Error that names where.
func Parse(query string) (*Query, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{query: query, toks: toks}
	q, err := p.parse()
	if err != nil {
		return nil, err
	}
	q.text = query
	return q, nil
}

type parser struct {
	query string
	toks  []token
	i     int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return errorAt(p.query, t.pos, format, args...)
}

// keyword reports whether the next token is the unquoted word kw, and
// takes it if so.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tokName && !t.quoted && t.text == kw {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) error {
	if !p.keyword(kw) {
		return p.errorf(p.peek(), "expected %s, found %s", kw, describe(p.peek()))
	}
	return nil
}

func (p *parser) symbol(s string) bool {
	t := p.peek()
	if t.kind == tokSymbol && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectSymbol(s string) error {
	if !p.symbol(s) {
		return p.errorf(p.peek(), "expected %q, found %s", s, describe(p.peek()))
	}
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the query"
	case tokString:
		return fmt.Sprintf("'%s'", t.text)
	case tokName:
		if t.quoted {
			return fmt.Sprintf("%q", t.text)
		}
	}
	return t.text
}

// unsupported are words that start what this subset leaves out.
var unsupported = map[string]string{
	"HAVING": "HAVING", "ORDER": "ORDER BY", "JOIN": "JOIN", "UNION": "UNION", "OVER": "OVER",
	"WINDOW": "WINDOW", "WINDOWED": "WINDOWED BY STAGGER", "LIMIT": "LIMIT", "INSERT": "INSERT",
	"CREATE": "CREATE", "CASE": "CASE", "CAST": "CAST",
}

func (p *parser) parse() (*Query, error) {
	if t := p.peek(); t.kind == tokName && !t.quoted && unsupported[t.text] != "" && t.text != "WINDOW" {
		return nil, p.errorf(t, "%s is not supported: a query is SELECT STREAM … FROM … GROUP BY …", unsupported[t.text])
	}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if err := p.expectKeyword("STREAM"); err != nil {
		return nil, err
	}
	q := &Query{}
	for {
		it, err := p.selectItem(len(q.items))
		if err != nil {
			return nil, err
		}
		q.items = append(q.items, it)
		if !p.symbol(",") {
			break
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	src := p.next()
	if src.kind != tokName {
		return nil, p.errorf(src, "expected a stream name after FROM, found %s", describe(src))
	}
	q.source = src.text
	if p.keyword("WHERE") {
		w, err := p.or()
		if err != nil {
			return nil, err
		}
		q.where = w
	}
	groupAt := p.peek()
	if err := p.expectKeyword("GROUP"); err != nil {
		if t := p.peek(); t.kind == tokName && unsupported[t.text] != "" {
			return nil, p.errorf(t, "%s is not supported", unsupported[t.text])
		}
		return nil, err
	}
	if err := p.expectKeyword("BY"); err != nil {
		return nil, err
	}
	for {
		if err := p.groupItem(q); err != nil {
			return nil, err
		}
		if !p.symbol(",") {
			break
		}
	}
	if q.window.kind == 0 {
		return nil, p.errorf(groupAt, "GROUP BY needs a window: STEP, FLOOR, TUMBLE, HOP or SESSION over ROWTIME or an event-time column")
	}
	p.symbol(";")
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokName && unsupported[t.text] != "" {
			return nil, p.errorf(t, "%s is not supported", unsupported[t.text])
		}
		return nil, p.errorf(t, "unexpected %s after the query", describe(t))
	}
	return q, q.check(p)
}

// check says every plain column selected is grouped by.
func (q *Query) check(p *parser) error {
	for _, it := range q.items {
		if it.col == nil {
			continue
		}
		found := false
		for _, g := range q.group {
			if sameColumn(g, *it.col) {
				found = true
			}
		}
		if !found {
			return errorAt(p.query, it.col.pos, "%s is neither grouped by nor in an aggregate", it.col.name)
		}
	}
	return nil
}

func sameColumn(a, b column) bool {
	if a.quoted && b.quoted {
		return a.name == b.name
	}
	return strings.EqualFold(a.name, b.name)
}

var aggregates = map[string]bool{
	"COUNT": true, "SUM": true, "MIN": true, "MAX": true, "AVG": true,
	"APPROX_COUNT_DISTINCT": true, "APPROX_PERCENTILE": true,
}

func (p *parser) selectItem(n int) (selectItem, error) {
	t := p.peek()
	var it selectItem
	switch {
	case t.kind == tokName && !t.quoted && aggregates[t.text] && p.toks[p.i+1].text == "(":
		agg, err := p.aggregate()
		if err != nil {
			return it, err
		}
		it.agg = agg
		it.name = fmt.Sprintf("EXPR$%d", n)
	case t.kind == tokName:
		c, err := p.column()
		if err != nil {
			return it, err
		}
		if c.rowtime() {
			return it, p.errorf(t, "ROWTIME cannot be selected: each result carries its window's start and end")
		}
		it.col = &c
		it.name = c.name
	case t.kind == tokSymbol && t.text == "*":
		return it, p.errorf(t, "SELECT * is not supported: name the grouping columns and aggregates")
	default:
		return it, p.errorf(t, "expected a column or an aggregate, found %s", describe(t))
	}
	if p.keyword("AS") {
		alias := p.next()
		if alias.kind != tokName {
			return it, p.errorf(alias, "expected a name after AS, found %s", describe(alias))
		}
		it.name = alias.text
	}
	return it, nil
}

func (p *parser) aggregate() (*aggCall, error) {
	fn := p.next()
	if err := p.expectSymbol("("); err != nil {
		return nil, err
	}
	a := &aggCall{fn: fn.text}
	if p.keyword("DISTINCT") {
		if fn.text != "COUNT" {
			return nil, p.errorf(fn, "DISTINCT is supported in COUNT only")
		}
		a.distinct = true
	} else {
		p.keyword("ALL")
	}
	if t := p.peek(); t.kind == tokSymbol && t.text == "*" {
		if fn.text != "COUNT" || a.distinct {
			return nil, p.errorf(t, "* is an argument of COUNT only")
		}
		p.next()
		a.star = true
	} else {
		arg, err := p.operand()
		if err != nil {
			return nil, err
		}
		a.arg = arg
	}
	if fn.text == "APPROX_PERCENTILE" {
		if err := p.expectSymbol(","); err != nil {
			return nil, err
		}
		qt := p.next()
		q, err := strconv.ParseFloat(qt.text, 64)
		if qt.kind != tokNumber || err != nil || q < 0 || q > 1 {
			return nil, p.errorf(qt, "APPROX_PERCENTILE takes a quantile from 0 to 1, found %s", describe(qt))
		}
		a.q = q
	}
	if err := p.expectSymbol(")"); err != nil {
		return nil, err
	}
	return a, nil
}

// column reads a name, or stream.name.
func (p *parser) column() (column, error) {
	t := p.next()
	if t.kind != tokName {
		return column{}, p.errorf(t, "expected a column, found %s", describe(t))
	}
	c := column{name: t.text, quoted: t.quoted, pos: t.pos}
	if p.symbol(".") {
		f := p.next()
		if f.kind != tokName {
			return column{}, p.errorf(f, "expected a column after %q., found %s", t.text, describe(f))
		}
		c = column{name: f.text, quoted: f.quoted, pos: f.pos}
	}
	return c, nil
}

func (p *parser) groupItem(q *Query) error {
	t := p.peek()
	if t.kind == tokName && !t.quoted && p.toks[p.i+1].text == "(" {
		switch t.text {
		case "STEP", "FLOOR", "TUMBLE", "HOP", "SESSION":
			if q.window.kind != 0 {
				return p.errorf(t, "GROUP BY has one window")
			}
			w, err := p.windowItem()
			if err != nil {
				return err
			}
			q.window = w
			return nil
		}
		return p.errorf(t, "%s is not a window: use STEP, FLOOR, TUMBLE, HOP or SESSION", t.text)
	}
	c, err := p.column()
	if err != nil {
		return err
	}
	if c.rowtime() {
		return p.errorf(t, "GROUP BY ROWTIME needs a window: STEP(ROWTIME BY INTERVAL …)")
	}
	q.group = append(q.group, c)
	return nil
}

func (p *parser) windowItem() (windowSpec, error) {
	fn := p.next()
	p.next() // (
	ts, err := p.column()
	if err != nil {
		return windowSpec{}, err
	}
	w := windowSpec{time: ts}
	switch fn.text {
	case "STEP":
		if err := p.expectKeyword("BY"); err != nil {
			return w, err
		}
		w.kind = tumble
		if w.size, err = p.interval(); err != nil {
			return w, err
		}
	case "FLOOR":
		if err := p.expectKeyword("TO"); err != nil {
			return w, err
		}
		w.kind = tumble
		if w.size, err = p.unit(); err != nil {
			return w, err
		}
	case "TUMBLE", "SESSION":
		if err := p.expectSymbol(","); err != nil {
			return w, err
		}
		d, err := p.interval()
		if err != nil {
			return w, err
		}
		if fn.text == "TUMBLE" {
			w.kind, w.size = tumble, d
		} else {
			w.kind, w.gap = session, d
		}
	case "HOP":
		if err := p.expectSymbol(","); err != nil {
			return w, err
		}
		if w.slide, err = p.interval(); err != nil {
			return w, err
		}
		if err := p.expectSymbol(","); err != nil {
			return w, err
		}
		if w.size, err = p.interval(); err != nil {
			return w, err
		}
		if w.slide > w.size {
			return w, p.errorf(fn, "HOP's slide (%v) exceeds its size (%v)", w.slide, w.size)
		}
		w.kind = hop
	}
	return w, p.expectSymbol(")")
}

// interval reads INTERVAL 'n' unit.
func (p *parser) interval() (time.Duration, error) {
	if err := p.expectKeyword("INTERVAL"); err != nil {
		return 0, err
	}
	n := p.next()
	if n.kind != tokString && n.kind != tokNumber {
		return 0, p.errorf(n, "expected a quoted number after INTERVAL, found %s", describe(n))
	}
	v, err := strconv.ParseInt(strings.TrimSpace(n.text), 10, 32)
	if err != nil || v <= 0 {
		return 0, p.errorf(n, "an interval must be a whole number above 0, found %s", describe(n))
	}
	u, err := p.unit()
	if err != nil {
		return 0, err
	}
	return time.Duration(v) * u, nil
}

var units = map[string]time.Duration{
	"MILLISECOND": time.Millisecond, "SECOND": time.Second, "MINUTE": time.Minute, "HOUR": time.Hour, "DAY": 24 * time.Hour,
}

func (p *parser) unit() (time.Duration, error) {
	t := p.next()
	if u, ok := units[strings.TrimSuffix(t.text, "S")]; ok && t.kind == tokName && !t.quoted {
		return u, nil
	}
	return 0, p.errorf(t, "expected a unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY), found %s", describe(t))
}
