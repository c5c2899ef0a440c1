// Package streamsql runs a small SQL over streams, in the spirit of
// Kinesis Data Analytics SQL: a query such as
//
//	SELECT STREAM page, COUNT(*) AS views, AVG(ms) AS avg_ms
//	FROM "clicks"
//	WHERE page <> 'health'
//	GROUP BY page, STEP("clicks".ROWTIME BY INTERVAL '1' MINUTE)
//
// is compiled to a job of package analytics — the same windows,
// watermarks, snapshots and exactly-once results (see Parse for the
// subset, NewJob for how it runs). Records are JSON objects; each result
// is a Row of the selected columns, keyed by the JSON array of the
// grouping columns' values.
//
// As in Data Analytics, names not in double quotes are upper-cased — the
// output column page is PAGE — and match JSON members in any case.
// ROWTIME is the time a record arrived in the stream; a column holding
// RFC 3339 text or Unix milliseconds can be the window's time instead,
// with the job's MaxOutOfOrderness and AllowedLateness for late rows.
package streamsql
