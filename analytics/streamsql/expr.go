package streamsql

import (
	"strconv"
	"strings"
)

// A row is a record's JSON object.
type row map[string]any

// get looks a column up: a quoted name exactly, another in any case.
func (r row) get(c column) any {
	if v, ok := r[c.name]; ok || c.quoted {
		return v
	}
	for k, v := range r {
		if strings.EqualFold(k, c.name) {
			return v
		}
	}
	return nil
}

// An expr is a condition or an operand: it gives a JSON value (nil,
// bool, float64, string) or, for conditions, a bool — nil being SQL's
// UNKNOWN.
type expr interface {
	eval(r row) any
}

type (
	colExpr struct{ c column }
	litExpr struct{ v any }
	notExpr struct{ x expr }
	andExpr struct{ a, b expr }
	orExpr  struct{ a, b expr }
	cmpExpr struct {
		op   string
		a, b expr
	}
	isNullExpr struct {
		x   expr
		not bool
	}
)

func (e colExpr) eval(r row) any { return r.get(e.c) }
func (e litExpr) eval(row) any   { return e.v }

func (e notExpr) eval(r row) any {
	if b, ok := e.x.eval(r).(bool); ok {
		return !b
	}
	return nil
}

func (e andExpr) eval(r row) any {
	a, aok := e.a.eval(r).(bool)
	if aok && !a {
		return false
	}
	b, bok := e.b.eval(r).(bool)
	if bok && !b {
		return false
	}
	if aok && bok {
		return true
	}
	return nil
}

func (e orExpr) eval(r row) any {
	a, aok := e.a.eval(r).(bool)
	if aok && a {
		return true
	}
	b, bok := e.b.eval(r).(bool)
	if bok && b {
		return true
	}
	if aok && bok {
		return false
	}
	return nil
}

func (e isNullExpr) eval(r row) any { return (e.x.eval(r) == nil) != e.not }

// eval compares numbers as numbers and text as text; anything else, or a
// null, is UNKNOWN.
func (e cmpExpr) eval(r row) any {
	a, b := e.a.eval(r), e.b.eval(r)
	var c int
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return nil
		}
		switch {
		case x < y:
			c = -1
		case x > y:
			c = 1
		}
	case string:
		y, ok := b.(string)
		if !ok {
			return nil
		}
		c = strings.Compare(x, y)
	case bool:
		y, ok := b.(bool)
		if !ok || (e.op != "=" && e.op != "<>") {
			return nil
		}
		if x != y {
			c = 1
		}
	default:
		return nil
	}
	switch e.op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	default: // >=
		return c >= 0
	}
}

func (p *parser) or() (expr, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = orExpr{a, b}
	}
	return a, nil
}

func (p *parser) and() (expr, error) {
	a, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		b, err := p.not()
		if err != nil {
			return nil, err
		}
		a = andExpr{a, b}
	}
	return a, nil
}

func (p *parser) not() (expr, error) {
	if p.keyword("NOT") {
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	if t := p.peek(); t.kind == tokSymbol && t.text == "(" {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		return x, p.expectSymbol(")")
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.keyword("IS") {
		not := p.keyword("NOT")
		if err := p.expectKeyword("NULL"); err != nil {
			return nil, err
		}
		return isNullExpr{a, not}, nil
	}
	t := p.peek()
	if t.kind != tokSymbol {
		return nil, p.errorf(t, "expected a comparison (= <> != < <= > >= IS NULL), found %s", describe(t))
	}
	switch op := t.text; op {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		p.next()
		b, err := p.operand()
		if err != nil {
			return nil, err
		}
		if op == "!=" {
			op = "<>"
		}
		return cmpExpr{op, a, b}, nil
	}
	return nil, p.errorf(t, "expected a comparison (= <> != < <= > >= IS NULL), found %s", describe(t))
}

// operand reads a column, a number, a string, TRUE, FALSE or NULL.
func (p *parser) operand() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNumber:
		p.next()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errorf(t, "%s is not a number", t.text)
		}
		return litExpr{f}, nil
	case tokString:
		p.next()
		return litExpr{t.text}, nil
	case tokName:
		if !t.quoted {
			switch t.text {
			case "TRUE", "FALSE":
				p.next()
				return litExpr{t.text == "TRUE"}, nil
			case "NULL":
				p.next()
				return litExpr{nil}, nil
			}
			if p.toks[p.i+1].text == "(" {
				return nil, p.errorf(t, "the function %s is not supported here", t.text)
			}
		}
		c, err := p.column()
		if err != nil {
			return nil, err
		}
		if c.rowtime() {
			return nil, p.errorf(t, "ROWTIME can be used only in the window")
		}
		return colExpr{c}, nil
	}
	return nil, p.errorf(t, "expected a column or a literal, found %s", describe(t))
}
