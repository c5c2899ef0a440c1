package streamsql

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClauses(t *testing.T) {
	q, err := Parse(`SELECT STREAM ticker_symbol, MIN(Price) AS Min_Price, MAX(price), COUNT(*) AS n
		FROM "SOURCE_SQL_STREAM_001"
		GROUP BY Ticker_Symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND);`)
	require.NoError(t, err)
	require.Equal(t, "SOURCE_SQL_STREAM_001", q.Source())
	require.Equal(t, []string{"TICKER_SYMBOL", "MIN_PRICE", "EXPR$2", "N"}, q.Columns())
	require.Equal(t, windowSpec{kind: tumble, size: time.Minute, time: column{name: "ROWTIME", pos: 166}}, q.window)

	for text, want := range map[string]windowSpec{
		"FLOOR(ROWTIME TO MINUTE)":                               {kind: tumble, size: time.Minute},
		"TUMBLE(ROWTIME, INTERVAL '5' SECONDS)":                  {kind: tumble, size: 5 * time.Second},
		"HOP(ROWTIME, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)": {kind: hop, slide: time.Minute, size: 5 * time.Minute},
		"SESSION(ROWTIME, INTERVAL '30' SECOND)":                 {kind: session, gap: 30 * time.Second},
		"STEP(ROWTIME BY INTERVAL '250' MILLISECOND)":            {kind: tumble, size: 250 * time.Millisecond},
		"TUMBLE(ROWTIME, INTERVAL '1' HOUR)":                     {kind: tumble, size: time.Hour},
		"TUMBLE(ROWTIME, INTERVAL '1' DAY)":                      {kind: tumble, size: 24 * time.Hour},
	} {
		q, err := Parse("select stream count(*) from s group by " + text)
		require.NoError(t, err, text)
		q.window.time = column{}
		require.Equal(t, want, q.window, text)
	}

	q, err = Parse(`SELECT STREAM page, COUNT(DISTINCT "user"), APPROX_COUNT_DISTINCT(user), APPROX_PERCENTILE(ms, 0.99), AVG(ms), SUM(ms)
		FROM clicks WHERE (ms >= 10 AND NOT page = 'x') OR "user" IS NULL GROUP BY TUMBLE(at, INTERVAL '1' MINUTE), page`)
	require.NoError(t, err)
	require.Equal(t, column{name: "AT", pos: 203}, q.window.time)
	require.Len(t, q.group, 1)
	r := row{"ms": 20.0, "page": "a", "user": "u"}
	require.Equal(t, true, q.where.eval(r))
	require.Equal(t, false, q.where.eval(row{"ms": 20.0, "page": "x", "user": "u"}))
	require.Equal(t, true, q.where.eval(row{"ms": 1.0, "page": "x"}), "user IS NULL")
	require.Nil(t, q.where.eval(row{"ms": "text", "page": "a", "user": "u"}), "a text compared with a number is UNKNOWN")
}

// TestParseErrors: what is outside the subset is refused, at the place of
// the trouble.
func TestParseErrors(t *testing.T) {
	for query, want := range map[string]string{
		"": "1:1: expected SELECT, found the end of the query",
		"SELECT page FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE)": "1:8: expected STREAM, found PAGE",
		"SELECT STREAM * FROM s":                                                                                "1:15: SELECT * is not supported",
		"SELECT STREAM COUNT(*) FROM s":                                                                         "1:30: expected GROUP, found the end of the query",
		"SELECT STREAM COUNT(*) FROM s GROUP BY page":                                                           "1:31: GROUP BY needs a window",
		"SELECT STREAM COUNT(*) FROM s GROUP BY ROWTIME":                                                        "1:40: GROUP BY ROWTIME needs a window",
		"SELECT STREAM page, COUNT(*) FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE)":                     "1:15: PAGE is neither grouped by nor in an aggregate",
		"SELECT STREAM COUNT(*) FROM s GROUP BY STEP(ROWTIME BY INTERVAL '0' MINUTE)":                           "1:65: an interval must be a whole number above 0",
		"SELECT STREAM COUNT(*) FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' WEEK)":                             "1:69: expected a unit",
		"SELECT STREAM COUNT(*) FROM s GROUP BY HOP(ROWTIME, INTERVAL '5' MINUTE, INTERVAL '1' MINUTE)":         "1:40: HOP's slide (5m0s) exceeds its size (1m0s)",
		"SELECT STREAM COUNT(*) FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE) HAVING COUNT(*) > 1":       "1:77: HAVING is not supported",
		"SELECT STREAM COUNT(*) FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE) ORDER BY 1":                "1:77: ORDER BY is not supported",
		"SELECT STREAM COUNT(*) FROM s JOIN t GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE)":                    "1:31: JOIN is not supported",
		"SELECT STREAM COUNT(*) OVER w FROM s":                                                                  "1:24: expected FROM, found OVER",
		"SELECT STREAM COUNT(*) FROM s WHERE UPPER(x) = 'A' GROUP BY FLOOR(ROWTIME TO MINUTE)":                  "1:37: the function UPPER is not supported here",
		"SELECT STREAM COUNT(*) FROM s WHERE x = 'open GROUP BY FLOOR(ROWTIME TO MINUTE)":                       "1:41: a string is not closed",
		"SELECT STREAM SUM(DISTINCT x) FROM s GROUP BY FLOOR(ROWTIME TO MINUTE)":                                "1:15: DISTINCT is supported in COUNT only",
		"SELECT STREAM APPROX_PERCENTILE(x, 2) FROM s GROUP BY FLOOR(ROWTIME TO MINUTE)":                        "1:36: APPROX_PERCENTILE takes a quantile from 0 to 1",
		"SELECT STREAM COUNT(*) FROM s GROUP BY FLOOR(ROWTIME TO MINUTE), STEP(ROWTIME BY INTERVAL '1' MINUTE)": "1:66: GROUP BY has one window",
		"SELECT STREAM COUNT(*) FROM s GROUP BY FLOOR(ROWTIME TO MINUTE) extra":                                 "1:65: unexpected EXTRA after the query",
		"SELECT STREAM COUNT(*)\nFROM s\nWHERE x # 1 GROUP BY FLOOR(ROWTIME TO MINUTE)":                         "3:9: unexpected character '#'",
		"CREATE OR REPLACE STREAM x (a INT)":                                                                    "1:1: CREATE is not supported",
	} {
		_, err := Parse(query)
		require.Error(t, err, query)
		assert.Contains(t, err.Error(), want, query)
		var e *Error
		require.ErrorAs(t, err, &e)
	}
}
