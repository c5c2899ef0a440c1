package firehose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A query extracts partition keys from a JSON record, as Firehose's
// MetadataExtraction processor does with a jq expression. shardlog reads
// the part of jq those queries use: an object whose values are paths,
//
//	{customer: .customer_id, year: .date.year, "zone id": .["zone-id"]}
//
// A key's value is the string at its path, or the JSON text of a number
// or a boolean; anything else (no such member, null, an object or a list)
// fails the record.
type query []queryField

type queryField struct {
	key  string
	path []string
}

// parseQuery reads a query; its errors name the position.
func parseQuery(s string) (query, error) {
	p := &queryParser{s: s}
	q, err := p.object()
	if err != nil {
		return nil, invalid("MetadataExtractionQuery %q: at %d: %v.", s, p.i+1, err)
	}
	return q, nil
}

type queryParser struct {
	s string
	i int
}

func (p *queryParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *queryParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *queryParser) object() (query, error) {
	if !p.eat('{') {
		return nil, fmt.Errorf("a query is an object, {key: .path, ...}")
	}
	var q query
	seen := map[string]bool{}
	for {
		key, err := p.name()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("the key %q is given twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return nil, fmt.Errorf("a ':' must follow the key %q", key)
		}
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		q = append(q, queryField{key, path})
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("a ',' or '}' must follow the path of %q", key)
		}
	}
	if p.space(); p.i != len(p.s) {
		return nil, fmt.Errorf("nothing may follow the object")
	}
	return q, nil
}

// name reads a key: an identifier or a JSON string.
func (p *queryParser) name() (string, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.str()
	}
	start := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i], p.i > start) {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("a key is a name or a quoted string")
	}
	return p.s[start:p.i], nil
}

func isIdent(c byte, notFirst bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || notFirst && '0' <= c && c <= '9'
}

// str reads a JSON string.
func (p *queryParser) str() (string, error) {
	start := p.i
	for p.i++; p.i < len(p.s) && p.s[p.i] != '"'; p.i++ {
		if p.s[p.i] == '\\' {
			p.i++
		}
	}
	if p.i >= len(p.s) {
		p.i = start
		return "", fmt.Errorf("the string is not closed")
	}
	p.i++
	v, err := strconv.Unquote(p.s[start:p.i])
	if err != nil {
		p.i = start
		return "", fmt.Errorf("the string is not a JSON string")
	}
	return v, nil
}

// path reads .a.b["c"]: at least one step.
func (p *queryParser) path() ([]string, error) {
	p.space()
	var path []string
	for p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		switch {
		case p.i < len(p.s) && p.s[p.i] == '[':
			p.i++
			p.space()
			v, err := p.str()
			if err != nil {
				return nil, err
			}
			if !p.eat(']') {
				return nil, fmt.Errorf("a ']' must close .[%q]", v)
			}
			path = append(path, v)
		default:
			start := p.i
			for p.i < len(p.s) && isIdent(p.s[p.i], p.i > start) {
				p.i++
			}
			if p.i == start {
				return nil, fmt.Errorf("a path is .name or .[\"name\"], step after step")
			}
			path = append(path, p.s[start:p.i])
		}
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("a key's value is a path such as .customer_id (shardlog reads no other jq)")
	}
	return path, nil
}

// keys reads a record and returns the query's keys' values, in the
// query's order.
func (q query) keys(record []byte, into []string) ([]string, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber() // numbers as written, not rounded to a float64
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, fmt.Errorf("the record is not one JSON value")
	}
	into = into[:0]
	for _, f := range q {
		v := doc
		for _, step := range f.path {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[step]
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("the key %s has no string, number or boolean at .%s", f.key, strings.Join(f.path, "."))
		}
		into = append(into, s)
	}
	return into, nil
}

// index is the position of key in the query, or -1.
func (q query) index(key string) int {
	for i, f := range q {
		if f.key == key {
			return i
		}
	}
	return -1
}
