package model

import (
	"testing"
	"time"
)

func TestMergedParentsExpire(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := New(t0, 10)
	if c := m.CreateStream("b", 2); c != "" {
		t.Fatal(c)
	}
	if c := m.Merge("b", ID(0), ID(1)); c != "" {
		t.Fatal(c)
	}
	m.Now = t0.Add(25 * time.Hour)
	s := m.Streams["b"]
	if got := len(m.Listed(s)); got != 1 {
		for _, sh := range s.Shards {
			t.Logf("%s open=%v closed=%v expired=%v", ID(sh.Index), sh.Open, sh.Closed, m.Expired(s, sh))
		}
		t.Fatalf("listed %d shards, want the child only", got)
	}
	// A longer period does not bring them back.
	if c := m.SetRetention("b", 30, true); c != "" {
		t.Fatal(c)
	}
	if got := len(m.Listed(s)); got != 1 {
		t.Fatalf("after a retention increase %d shards are listed", got)
	}
}
