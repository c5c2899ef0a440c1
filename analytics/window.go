package analytics

import (
	"fmt"
	"time"
)

// Window says how a job groups each key's events in time. The zero value
// is not a window; use Tumbling, Hopping or Session.
type Window struct {
	kind  windowKind
	size  int64 // tumbling and hopping: the window's length, in nanoseconds
	slide int64 // hopping: how far each window starts after the last; tumbling: size
	gap   int64 // session: the silence that ends a session
}

type windowKind uint8

const (
	tumbling windowKind = iota + 1
	hopping
	session
)

// Tumbling windows are back to back, each size long, aligned to the Unix
// epoch: a one-minute window runs from a whole minute to the next. Each
// event is in exactly one. They are Kinesis Data Analytics SQL's
// STEP(ROWTIME BY INTERVAL …) and Flink's TUMBLE.
func Tumbling(size time.Duration) Window {
	return Window{kind: tumbling, size: int64(size), slide: int64(size)}
}

// Hopping windows are size long and start every slide, aligned to the Unix
// epoch, so each event is in size/slide of them (rounded up): a five-minute
// window every minute. They are Flink's HOP, Data Analytics' sliding
// windows over a time range reported at a fixed rate. Events are kept in
// panes of the greatest common divisor of size and slide, merged when a
// window closes, so an event costs one aggregation however many windows
// hold it. slide must not exceed size.
func Hopping(size, slide time.Duration) Window {
	return Window{kind: hopping, size: int64(size), slide: int64(slide)}
}

// Session windows group a key's events that follow each other within gap:
// a session runs from its first event to its last plus gap, and closes
// when gap passes with no event of its key (an event exactly gap after
// the last starts a new session). Two sessions an event bridges
// are merged into one, so an aggregate used with them needs a Merge.
func Session(gap time.Duration) Window {
	return Window{kind: session, gap: int64(gap)}
}

// String describes w as its constructor call would.
func (w Window) String() string {
	switch w.kind {
	case tumbling:
		return fmt.Sprintf("Tumbling(%v)", time.Duration(w.size))
	case hopping:
		return fmt.Sprintf("Hopping(%v, %v)", time.Duration(w.size), time.Duration(w.slide))
	case session:
		return fmt.Sprintf("Session(%v)", time.Duration(w.gap))
	}
	return "Window{}"
}

func (w Window) check() error {
	switch w.kind {
	case tumbling:
		if w.size <= 0 {
			return fmt.Errorf("%w: %v: the size must be positive", ErrInvalidConfig, w)
		}
	case hopping:
		if w.size <= 0 || w.slide <= 0 || w.slide > w.size {
			return fmt.Errorf("%w: %v: the size and slide must be positive, the slide at most the size", ErrInvalidConfig, w)
		}
	case session:
		if w.gap <= 0 {
			return fmt.Errorf("%w: %v: the gap must be positive", ErrInvalidConfig, w)
		}
	default:
		return fmt.Errorf("%w: no Window (use Tumbling, Hopping or Session)", ErrInvalidConfig)
	}
	return nil
}

// pane is the length of the slices tumbling and hopping windows keep
// their events in: the window itself when tumbling.
func (w Window) pane() int64 { return gcd(w.size, w.slide) }

// lastStart is the start of the last window that holds an event at t (of
// the pane starting at t): the one the event's state lives until.
func (w Window) lastStart(t int64) int64 { return floorDiv(t, w.slide) * w.slide }

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// floorDiv rounds towards minus infinity, so that windows before the epoch
// align as those after it.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
