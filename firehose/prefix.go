package firehose

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The error output types, !{firehose:error-output-type}'s values.
const (
	ProcessingFailed  = "processing-failed"
	DeliveryFailed    = "delivery-failed" // shardlog's: an object Destination did not take within RetryDuration
	defaultTimeFormat = "yyyy/MM/dd/HH/"
)

// A prefix is a sequence of literal text and expressions, as Firehose's
// S3 prefixes are: !{timestamp:<Java DateTimeFormatter pattern>} (the
// arrival of the object's oldest record, UTC), !{firehose:random-string}
// (11 characters, new at each use) and, in the error output prefix only,
// !{firehose:error-output-type}. A prefix without a timestamp expression
// gets !{timestamp:yyyy/MM/dd/HH/} appended (no slash is put before it),
// but with dynamic partitioning, where it needs
// !{partitionKeyFromQuery:<key>} or !{partitionKeyFromLambda:<key>}.
// An empty error output prefix, allowed only where the prefix has no
// expression, is the prefix followed by
// !{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}; a given one
// without expressions gets that appended, and one with expressions must
// have !{firehose:error-output-type}.
type prefix []piece

type piece struct {
	text string // literal text, or the timestamp's pattern
	kind int    // one of the piece kinds
}

const (
	literal = iota
	timestamp
	randomString
	errorType
	fromQuery  // !{partitionKeyFromQuery:<key>}, the key in text
	fromLambda // !{partitionKeyFromLambda:<key>}
)

// parsePrefix reads s; errorOutput says whether it is the error output
// prefix, partitioned whether dynamic partitioning is on.
func parsePrefix(s string, errorOutput, partitioned bool) (prefix, error) {
	var p prefix
	hasTime := false
	for s != "" {
		i := strings.Index(s, "!{")
		if i < 0 {
			p = append(p, piece{text: s})
			break
		}
		if i > 0 {
			p = append(p, piece{text: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, invalid("The expression at %q is not closed with '}'.", s[i:])
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		ns, value, _ := strings.Cut(expr, ":")
		switch {
		case ns == "timestamp":
			if err := checkTimeFormat(value); err != nil {
				return nil, err
			}
			p, hasTime = append(p, piece{text: value, kind: timestamp}), true
		case expr == "firehose:random-string":
			p = append(p, piece{kind: randomString})
		case expr == "firehose:error-output-type" && errorOutput:
			p = append(p, piece{kind: errorType})
		case (ns == "partitionKeyFromQuery" || ns == "partitionKeyFromLambda") && errorOutput:
			return nil, invalid("ErrorOutputPrefix cannot have !{%s}: a record that fails goes there without its keys.", expr)
		case (ns == "partitionKeyFromQuery" || ns == "partitionKeyFromLambda") && !partitioned:
			return nil, invalid("!{%s} needs dynamic partitioning (Config.Partitioning).", expr)
		case ns == "partitionKeyFromQuery" && value != "":
			p = append(p, piece{text: value, kind: fromQuery})
		case ns == "partitionKeyFromLambda" && value != "":
			p = append(p, piece{text: value, kind: fromLambda})
		default:
			return nil, invalid("The expression !{%s} is not one of timestamp, firehose:random-string or (in ErrorOutputPrefix) firehose:error-output-type.", expr)
		}
	}
	if !hasTime && !(partitioned && !errorOutput) {
		// With dynamic partitioning the prefix is used as written, as
		// Firehose's partitioned keys show.
		p = append(p, piece{text: defaultTimeFormat, kind: timestamp})
	}
	return p, nil
}

// checkPrefixes checks a configuration's two prefixes against Firehose's
// rules.
func checkPrefixes(prefix, errorPrefix string, partitioned bool) error {
	_, _, err := prefixes(prefix, errorPrefix, partitioned)
	return err
}

// prefixes parses the two prefixes, the error output prefix defaulted.
func prefixes(pfx, errorPfx string, partitioned bool) (prefix, prefix, error) {
	p, err := parsePrefix(pfx, false, partitioned)
	if err != nil {
		return nil, nil, err
	}
	hasExpr := strings.Contains(pfx, "!{")
	switch {
	case partitioned && errorPfx == "":
		return nil, nil, invalid("ErrorOutputPrefix is required with dynamic partitioning.")
	case partitioned && !p.partitioned():
		return nil, nil, invalid("Prefix must have a !{partitionKeyFromQuery:…} or !{partitionKeyFromLambda:…} expression with dynamic partitioning.")
	case errorPfx == "" && hasExpr:
		return nil, nil, invalid("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.")
	case errorPfx == "":
		errorPfx = pfx + "!{firehose:error-output-type}/!{timestamp:" + defaultTimeFormat + "}"
	case !strings.Contains(errorPfx, "!{"):
		errorPfx += "!{firehose:error-output-type}/!{timestamp:" + defaultTimeFormat + "}"
	case !strings.Contains(errorPfx, "!{firehose:error-output-type}"):
		return nil, nil, invalid("ErrorOutputPrefix must contain !{firehose:error-output-type} when it has expressions.")
	}
	e, err := parsePrefix(errorPfx, true, partitioned)
	return p, e, err
}

// partitioned reports whether the prefix has a partition key.
func (p prefix) partitioned() bool {
	for _, x := range p {
		if x.kind == fromQuery || x.kind == fromLambda {
			return true
		}
	}
	return false
}

// keysUsed returns the partition keys the prefix names, of kind.
func (p prefix) keysUsed(kind int) []string {
	var out []string
	for _, x := range p {
		if x.kind == kind {
			out = append(out, x.text)
		}
	}
	return out
}

// eval writes the prefix for an object whose oldest record arrived at t,
// in the partition part (nil without dynamic partitioning).
func (p prefix) eval(t time.Time, errType string, part *partition) string {
	var b strings.Builder
	for _, x := range p {
		switch x.kind {
		case literal:
			b.WriteString(x.text)
		case timestamp:
			b.WriteString(formatTime(x.text, t.UTC()))
		case randomString:
			b.WriteString(randomText(11))
		case errorType:
			b.WriteString(errType)
		case fromQuery, fromLambda:
			b.WriteString(part.value(x.kind, x.text))
		}
	}
	return b.String()
}

// objectName is the end of an object's key, as Firehose names it:
// <name>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>, with the compression's
// extension (.gz for GZIP).
func objectName(name string, version int, t time.Time, c Compression) string {
	return name + "-" + strconv.Itoa(version) + "-" + t.UTC().Format("2006-01-02-15-04-05") + "-" + uuid() + c.extension()
}

// checkTimeFormat accepts the parts of Java's DateTimeFormatter patterns
// that prefixes use: yyyy, yy, MM, dd, HH, mm, ss, DDD, quoted text and
// any character that is not a letter.
func checkTimeFormat(f string) error {
	_, err := timeFormat(f, time.Time{})
	return err
}

func formatTime(f string, t time.Time) string {
	s, _ := timeFormat(f, t)
	return s
}

func timeFormat(f string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c == '\'' {
			end := strings.IndexByte(f[i+1:], '\'')
			if end < 0 {
				return "", invalid("The timestamp pattern %q has an unclosed quote.", f)
			}
			b.WriteString(f[i+1 : i+1+end])
			i += end + 2
			continue
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(f) && f[j] == c {
			j++
		}
		field := f[i:j]
		i = j
		switch field {
		case "yyyy", "uuuu":
			fmt.Fprintf(&b, "%04d", t.Year())
		case "yy", "uu":
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case "MM":
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case "dd":
			fmt.Fprintf(&b, "%02d", t.Day())
		case "HH":
			fmt.Fprintf(&b, "%02d", t.Hour())
		case "mm":
			fmt.Fprintf(&b, "%02d", t.Minute())
		case "ss":
			fmt.Fprintf(&b, "%02d", t.Second())
		case "DDD":
			fmt.Fprintf(&b, "%03d", t.YearDay())
		default:
			return "", invalid("The timestamp pattern %q has %q, which shardlog does not format (yyyy, yy, MM, dd, HH, mm, ss, DDD and quoted text).", f, field)
		}
	}
	return b.String(), nil
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// uuid is a random (version 4) UUID.
func uuid() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
