package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

// A spool holds a response body while the database work behind it runs,
// so that no handler writes to a client while it holds a pooled
// connection: rows go from PostgreSQL into the spool, the query ends and
// its connection goes back to the pool, and only then is the spool copied
// to the client, at whatever pace the client reads (bounded by the
// per-write deadline, see deadlineWriter).
//
// Why a spool and not keyset paging: one query per page keeps the page one
// consistent snapshot (an import between two round trips cannot tear it),
// any sortby works (keyset paging over NULLS LAST sorts is fragile) and
// the database does each page's work once. Memory stays flat because the
// spool keeps only its first spoolMemory bytes in memory (in pooled
// chunks) and spills the rest to an unlinked temporary file; bodies are
// gzip-compressed before they are spooled when the client accepts it. A
// 10,000-polygon page is a few MB of GeoJSON (well under 1 MB gzipped).
// Past maxSpool bytes a response is refused rather than grown for ever,
// and all the spools of a server share one memory budget (spoolBudget):
// past it they write straight to their files, so memory stays flat however
// many clients read slowly at once.
//
// Knowing the whole body before sending it also gives every such response
// a Content-Length and lets a database error mid-page become a clean
// 503/500 instead of a truncated 200.
type spool struct {
	chunks [][]byte // in memory, each of spoolChunk capacity
	file   *os.File // the overflow, when there is one
	size   int64
	max    int64
	budget *spoolBudget
}

// spoolBudget is the memory all of a server's spools may hold together.
type spoolBudget struct{ left atomic.Int64 }

// defaultSpoolBudget is a server's spool memory.
const defaultSpoolBudget = 64 << 20

func newSpoolBudget(n int64) *spoolBudget {
	b := &spoolBudget{}
	b.left.Store(n)
	return b
}

// take reserves n bytes, or reports that there are not n left.
func (b *spoolBudget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.left.Add(-n) >= 0 {
		return true
	}
	b.left.Add(n)
	return false
}

func (b *spoolBudget) give(n int64) {
	if b != nil {
		b.left.Add(n)
	}
}

const (
	spoolChunk  = 32 << 10
	spoolMemory = 1 << 20
	maxSpool    = 1 << 30
)

var spoolChunks = sync.Pool{New: func() any { b := make([]byte, 0, spoolChunk); return &b }}

// errTooLarge is returned when a response would pass maxSpool bytes: the
// client can ask for less.
var errTooLarge = &Error{Status: http.StatusBadRequest, Code: "ResponseTooLarge",
	Description: "the response would pass 1 GiB: ask for fewer features (limit) or a smaller area (bbox)"}

func newSpool(budget *spoolBudget) *spool { return &spool{max: maxSpool, budget: budget} }

// Write appends p, in memory while there is room, else to the file.
func (s *spool) Write(p []byte) (int, error) {
	if s.size+int64(len(p)) > s.max {
		return 0, errTooLarge
	}
	n := len(p)
	for len(p) > 0 && s.file == nil {
		if k := len(s.chunks); k > 0 && len(s.chunks[k-1]) < spoolChunk {
			last := s.chunks[k-1]
			m := copy(last[len(last):spoolChunk], p)
			s.chunks[k-1] = last[:len(last)+m]
			p = p[m:]
			s.size += int64(m)
			continue
		}
		if len(s.chunks)*spoolChunk >= spoolMemory || !s.budget.take(spoolChunk) {
			f, err := os.CreateTemp("", "nbhd-spool-*")
			if err != nil {
				return n - len(p), fmt.Errorf("spool to disk: %w", err)
			}
			// Unlinked at once: the space is freed when the file is closed,
			// or when the process dies.
			_ = os.Remove(f.Name())
			s.file = f
			break
		}
		s.chunks = append(s.chunks, (*spoolChunks.Get().(*[]byte))[:0])
	}
	if len(p) > 0 {
		m, err := s.file.Write(p)
		s.size += int64(m)
		if err != nil {
			return n - len(p) + m, fmt.Errorf("spool to disk: %w", err)
		}
	}
	return n, nil
}

// Size is the number of bytes spooled.
func (s *spool) Size() int64 { return s.size }

// WriteTo copies the spool to w in chunks of at most spoolChunk bytes.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, c := range s.chunks {
		m, err := w.Write(c)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	if s.file == nil {
		return n, nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return n, fmt.Errorf("spool: %w", err)
	}
	bp := spoolChunks.Get().(*[]byte)
	defer spoolChunks.Put(bp)
	buf := (*bp)[:spoolChunk]
	for {
		k, rerr := s.file.Read(buf)
		if k > 0 {
			m, err := w.Write(buf[:k])
			n += int64(m)
			if err != nil {
				return n, err
			}
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("spool: %w", rerr)
		}
	}
}

// Release returns the memory and closes the file. The spool is empty after.
func (s *spool) Release() {
	for _, c := range s.chunks {
		c = c[:0]
		spoolChunks.Put(&c)
	}
	s.budget.give(int64(len(s.chunks)) * spoolChunk)
	s.chunks = nil
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	s.size = 0
}
