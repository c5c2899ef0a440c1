package shardlog

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// The recovery path as a whole, under random damage: a store is written
// (and closed, or cut by a power cut), its files are flipped, cut, zeroed
// and deleted at random, and it is opened and read. Whatever the damage:
// every record returned was acknowledged, with its own sequence number;
// every acknowledged record is returned or reported; no sequence number is
// given to two records; no file the damage did not touch is deleted.

// damageHashKeys route to the store's two shards.
var damageHashKeys = [2]string{"0", "340282366920938463463374607431768211455"}

// writtenShard is what was acknowledged in one shard of a damage store.
type writtenShard struct {
	id   string
	data map[string]uint64 // acknowledged data, by its position
	next uint64            // the position after the last acknowledged
}

// damageStore is a store to damage: its file system, what it was
// acknowledged, and its segment files.
type damageStore struct {
	fs     *vfs.MemFS
	shards [2]writtenShard
	files  []string // segment files with a header, sorted
	dirs   [2]string
	// Per shard: its files with a header, oldest first, with the first
	// position each holds, and whether a file made ahead of need (no
	// header) follows them.
	own   [2][]baseFile
	ahead [2]bool
}

// baseFile is a segment file of a damage store before the damage.
type baseFile struct {
	name  string
	first uint64
}

// damageBase is how a damage store's account ended.
type damageBase int

const (
	baseClosed  damageBase = iota
	baseCrashed            // the power cut once the next files, made ahead of need, were made
	baseBare               // the power cut with no file made ahead: nothing after the newest file
)

// buildDamageStore writes about 300 records of varied sizes to each of
// two shards, in 64 KiB files, then closes the account or cuts the power.
func buildDamageStore(t testing.TB, base damageBase) *damageStore {
	fs := vfs.NewMemFS()
	a, err := NewAccount(withFS(fs.Process()), WithDir("/data"), WithClock(NewManualClock(tStart)), WithoutLimits(),
		WithAccountID("123456789012"), WithSegmentSize(64<<10))
	require.NoError(t, err)
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 2})))
	s := mustStream(t, a, "s")
	r := rand.New(rand.NewPCG(1, 2))
	d := &damageStore{fs: fs}
	for i := range d.shards {
		d.shards[i].data = map[string]uint64{}
	}
	for i := range 600 {
		sh := i % 2
		data := fmt.Sprintf("r%04d-%s", i, strings.Repeat("x", r.IntN(600)))
		if i%3 == 0 {
			res, err := s.PutBatch(bg, []PutInput{{PartitionKey: "k", ExplicitHashKey: damageHashKeys[sh], Data: []byte(data)}})
			require.NoError(t, err)
			require.Zero(t, res.FailedRecordCount)
			d.note(sh, res.Records[0].ShardID, res.Records[0].SequenceNumber, data)
			continue
		}
		res, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: damageHashKeys[sh], Data: []byte(data)})
		require.NoError(t, err)
		d.note(sh, res.ShardID, res.SequenceNumber, data)
	}
	for i := range d.dirs {
		d.dirs[i] = s.shardAt(uint32(i)).files.path("")
	}
	for i := range d.dirs { // what the power cut finds does not depend on timing
		sh := s.shardAt(uint32(i))
		sh.mu.Lock()
		if sp := sh.files.spare; sp != nil && base == baseCrashed {
			<-sp.done
		} else if base == baseBare {
			sh.files.dropSpare()
		}
		sh.mu.Unlock()
	}
	if base == baseBare {
		require.NoError(t, fs.SyncDir(path.Dir(d.dirs[0]))) // the spares' deletion too
	}
	if base == baseClosed {
		require.NoError(t, a.Close())
	} else {
		fs.Crash()
	}
	for i, dir := range d.dirs {
		names, err := shardEntries(fs, dir)
		require.NoError(t, err)
		for _, n := range names {
			if !strings.HasSuffix(n, ".seg") {
				continue
			}
			b, err := readFile(fs, dir+n)
			require.NoError(t, err)
			if h, err := segfile.ParseHeader(b); err == nil {
				d.files = append(d.files, dir+n)
				d.own[i] = append(d.own[i], baseFile{name: dir + n, first: h.First})
			} else {
				d.ahead[i] = true // made ahead: numbered after every file with a header
			}
		}
		if base != baseClosed {
			require.Equal(t, base == baseCrashed, d.ahead[i], "shard %d: a file made ahead, or none, as asked", i)
		}
	}
	return d
}

// untraced returns where the records of shard i begin that the damage
// may have left no trace of: its newest files, deleted or cut shorter
// than a header, with no file made ahead after them. A crashed store's
// index may not hold them yet, and its manifest knows only what it held
// at the last clean Close, so a store cannot report those records, nor
// keep their positions (docs/durability.md, "the newest file deleted").
// It returns false if the damage left a trace of every record.
func (d *damageStore) untraced(fs *vfs.MemFS, i int) (uint64, bool) {
	if d.ahead[i] {
		return 0, false
	}
	from, erased := uint64(0), false
	for j := len(d.own[i]) - 1; j >= 0; j-- {
		f, err := fs.Open(d.own[i][j].name)
		if err == nil {
			size, _ := f.Size()
			f.Close()
			if size >= segfile.HeaderSize {
				break
			}
		}
		from, erased = d.own[i][j].first, true
	}
	return from, erased
}

func (d *damageStore) note(sh int, id string, seq SequenceNumber, data string) {
	w := &d.shards[sh]
	w.id = id
	pos := seq.n.Counter - 1
	w.data[data] = pos
	w.next = max(w.next, pos+1)
}

// damage applies a plan of 7-byte steps to fs, and returns the files it
// touched: op, target, offset (4 bytes, little-endian), and a spare byte.
func (d *damageStore) damage(t testing.TB, fs *vfs.MemFS, plan []byte) map[string]bool {
	touched := map[string]bool{}
	for ; len(plan) >= 7; plan = plan[7:] {
		op, target, off := plan[0]%7, int(plan[1]), int64(binary.LittleEndian.Uint32(plan[2:]))
		name := d.files[target%len(d.files)]
		if op >= 5 {
			name = indexFile(d.dirs[target%2])
		}
		f, err := fs.OpenReadWrite(name)
		if errors.Is(err, errNotExist) {
			continue
		}
		require.NoError(t, err)
		size, err := f.Size()
		require.NoError(t, err)
		touched[name] = true
		switch op {
		case 0, 5: // a byte flipped
			if size > 0 {
				b := make([]byte, 1)
				_, err = f.ReadAt(b, off%size)
				require.NoError(t, err)
				b[0] ^= 1 << (plan[6] % 8)
				_, err = f.WriteAt(b, off%size)
				require.NoError(t, err)
			}
		case 1: // cut short
			require.NoError(t, f.Truncate(off%(size+1)))
		case 2, 6: // deleted
			require.NoError(t, f.Close())
			require.NoError(t, fs.Remove(name))
			continue
		case 3: // a stretch of zeros
			if size > 0 {
				_, err = f.WriteAt(make([]byte, min(int64(plan[6])+1, size-off%size)), off%size)
				require.NoError(t, err)
			}
		case 4: // a stretch of another file's bytes
			other, err := readFile(fs, d.files[int(plan[6])%len(d.files)])
			if errors.Is(err, errNotExist) {
				break
			}
			require.NoError(t, err)
			if len(other) > 0 && size > 0 {
				from := off % int64(len(other))
				_, err = f.WriteAt(other[from:min(int64(len(other)), from+300)], off%size)
				require.NoError(t, err)
			}
		}
		require.NoError(t, f.Close())
	}
	return touched
}

// readShardPast reads a shard from TRIM_HORIZON, going on past damage: the
// data returned by position, and the positions reported damaged.
func readShardPast(t testing.TB, s *Stream, id string) (map[uint64]string, map[uint64]bool) {
	got, damaged := map[uint64]string{}, map[uint64]bool{}
	for r, err := range s.Records(bg, id, StartingPosition{Type: TrimHorizon}) {
		if err != nil {
			var d *DamagedRecordsError
			require.ErrorAs(t, err, &d, "only damage is an error")
			for c := d.First.n.Counter; c <= d.Last.n.Counter; c++ {
				damaged[c-1] = true
			}
			continue
		}
		pos := r.SequenceNumber.n.Counter - 1
		require.NotContains(t, got, pos, "a record once")
		got[pos] = string(r.Data)
	}
	return got, damaged
}

// check opens the damaged file system and holds it to the invariants.
func (d *damageStore) check(t testing.TB, fs *vfs.MemFS, touched map[string]bool) {
	open := func() *Account {
		a, err := NewAccount(withFS(fs.Process()), WithDir("/data"), WithClock(NewManualClock(tStart)), WithoutLimits(),
			WithAccountID("123456789012"), WithSegmentSize(64<<10))
		require.NoError(t, err, "damage to records never keeps an account from opening")
		return a
	}
	var lostFrom [2]uint64
	var untraced [2]bool
	for i := range d.shards {
		lostFrom[i], untraced[i] = d.untraced(fs, i) // before opening writes anything
	}
	a := open()
	s := mustStream(t, a, "s")
	var returned [2]map[uint64]string
	var damagedAt [2]map[uint64]bool
	for i, w := range d.shards {
		returned[i], damagedAt[i] = readShardPast(t, s, w.id)
	}
	rep := a.Recovery()           // what opening found, and reading
	reported := map[string]bool{} // shards with something reported
	torn := map[string]bool{}     // shards whose newest file was cut as torn
	for _, c := range rep.Corrupt {
		reported[c.ShardID] = true
	}
	for _, c := range rep.TornTails {
		reported[c.ShardID], torn[c.ShardID] = true, true
	}
	var ends [2]uint64 // past every position returned or reported
	for i, w := range d.shards {
		got, damaged := returned[i], damagedAt[i]
		last := uint64(0) // past every position returned or reported
		for pos, data := range got {
			want, ok := w.data[data]
			require.True(t, ok, "record %.10s was acknowledged", data)
			require.Equal(t, want, pos, "record %.10s keeps its sequence number", data)
			last = max(last, pos+1)
		}
		for pos := range damaged {
			last = max(last, pos+1)
		}
		ends[i] = last
		if len(damaged) > 0 {
			require.True(t, reported[w.id], "damage found reading %s is reported", w.id)
		}
		for data, pos := range w.data {
			if _, ok := got[pos]; ok || damaged[pos] || untraced[i] && pos >= lostFrom[i] {
				continue
			}
			require.True(t, pos >= last && reported[w.id],
				"acknowledged record %.10s at %d of %s is neither returned nor reported (returned up to %d)", data, pos, w.id, last)
		}
	}
	// New records go after every record the shard held: every one, but
	// what a torn tail cut. Damage to the newest file's last records, above
	// its sync mark, cannot be told from a write a power cut tore, whose
	// records were never acknowledged: it is cut as a torn tail (reported),
	// and new records take the positions from there.
	var added [2][]string
	for i, w := range d.shards {
		floor := w.next
		if torn[w.id] {
			floor = ends[i]
		}
		if untraced[i] {
			floor = min(floor, max(lostFrom[i], ends[i]))
		}
		for j := range 10 {
			data := fmt.Sprintf("new-%d-%d", i, j)
			res, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: damageHashKeys[i], Data: []byte(data)})
			require.NoError(t, err)
			require.GreaterOrEqual(t, res.SequenceNumber.n.Counter-1, floor, "no sequence number is given twice")
			added[i] = append(added[i], data)
		}
	}
	require.NoError(t, a.Close())
	for _, name := range d.files {
		if !touched[name] {
			_, err := fs.Open(name)
			require.NoError(t, err, "%s, untouched, is kept", name)
		}
	}
	b := open()
	defer b.Close()
	for i, w := range d.shards {
		got, _ := readShardPast(t, mustStream(t, b, "s"), w.id)
		for pos, data := range returned[i] {
			require.Equal(t, data, got[pos], "what was returned once is returned again")
		}
		var news []string
		for _, data := range got {
			if strings.HasPrefix(data, "new-") {
				news = append(news, data)
			}
		}
		slices.Sort(news)
		require.Equal(t, added[i], news)
	}
}

// damageRounds is how many plans TestRecoveryUnderRandomDamage tries: a
// CI-sized number, or SHARDLOG_DAMAGE_ROUNDS.
func damageRounds(t *testing.T) int {
	if v := os.Getenv("SHARDLOG_DAMAGE_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		return n
	}
	if testing.Short() {
		return 20
	}
	return 150
}

// damageStores are built once per test binary, one for each damageBase.
var damageStores = struct {
	once sync.Once
	s    [3]*damageStore
}{}

// stores returns the damage stores, by damageBase.
func stores(t testing.TB) [3]*damageStore {
	damageStores.once.Do(func() {
		damageStores.s = [3]*damageStore{buildDamageStore(t, baseClosed), buildDamageStore(t, baseCrashed), buildDamageStore(t, baseBare)}
	})
	return damageStores.s
}

// TestRecoveryUnderRandomDamage runs random plans of one to four steps.
func TestRecoveryUnderRandomDamage(t *testing.T) {
	seed := rand.Uint64()
	if v := os.Getenv("SHARDLOG_DAMAGE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("SHARDLOG_DAMAGE_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	all := stores(t)
	if v := os.Getenv("SHARDLOG_DAMAGE_PLAN"); v != "" { // one plan, as a failure names it
		plan, err := hex.DecodeString(v)
		require.NoError(t, err)
		for i, d := range all {
			fs := d.fs.Clone()
			touched := d.damage(t, fs, plan)
			t.Run(fmt.Sprint("base=", i), func(t *testing.T) { d.check(t, fs, touched) })
		}
		return
	}
	for round := range damageRounds(t) {
		plan := make([]byte, 7*(1+r.IntN(4)))
		for i := range plan {
			plan[i] = byte(r.Uint32())
		}
		d := all[round%len(all)]
		fs := d.fs.Clone()
		touched := d.damage(t, fs, plan)
		t.Run(fmt.Sprintf("%d/%x", round, plan), func(t *testing.T) { d.check(t, fs, touched) })
	}
}

// FuzzRecovery: the same invariants for plans the fuzzer finds.
func FuzzRecovery(f *testing.F) {
	f.Add(false, []byte{0, 2, 0x10, 0x27, 0, 0, 3})
	f.Add(true, []byte{1, 7, 0x00, 0x40, 0, 0, 0})
	f.Add(false, []byte{2, 1, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0})
	f.Add(true, []byte{3, 5, 0x40, 0, 0, 0, 40, 4, 3, 0, 0x20, 0, 0, 2})
	f.Add(true, []byte{5, 0, 0x80, 0, 0, 0, 7, 1, 9, 0x20, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, crash bool, plan []byte) {
		if len(plan) > 7*8 {
			return
		}
		d := stores(t)[0]
		if crash {
			d = stores(t)[1]
		}
		fs := d.fs.Clone()
		touched := d.damage(t, fs, plan)
		d.check(t, fs, touched)
	})
}
