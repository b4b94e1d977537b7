package api

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestSpoolKeepsBytesAndSpills writes past the memory limit in pieces of
// every size: the bytes come back in order, the overflow went to an
// unlinked file, and the memory went back to the pool.
func TestSpoolKeepsBytesAndSpills(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, spoolMemory*3+12345)
	for i := range want {
		want[i] = byte(r.IntN(256))
	}
	s := newSpool(nil)
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(100_000))
		if k, err := s.Write(rest[:n]); err != nil || k != n {
			t.Fatalf("write %d: %d, %v", n, k, err)
		}
		rest = rest[n:]
	}
	if s.file == nil {
		t.Fatal("nothing spilled to disk")
	}
	if _, err := os.Stat(s.file.Name()); !os.IsNotExist(err) {
		t.Errorf("the spill file %s is still linked: %v", filepath.Base(s.file.Name()), err)
	}
	if len(s.chunks)*spoolChunk > spoolMemory {
		t.Errorf("%d bytes in memory, limit %d", len(s.chunks)*spoolChunk, spoolMemory)
	}
	var got bytes.Buffer
	n, err := s.WriteTo(&got)
	if err != nil || n != int64(len(want)) || s.Size() != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read back %d of %d bytes, equal %v, err %v", n, len(want), bytes.Equal(got.Bytes(), want), err)
	}
	s.Release()
	if s.file != nil || s.chunks != nil || s.Size() != 0 {
		t.Error("Release left the spool holding something")
	}
}

func TestSpoolRefusesPastItsLimit(t *testing.T) {
	s := newSpool(nil)
	s.max = 100
	defer s.Release()
	if _, err := s.Write(make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, err := s.Write(make([]byte, 60)); !errors.As(err, &e) || e.Status != 400 {
		t.Errorf("past the limit: %v, want a 400", err)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"Leigh Library":      "Leigh Library",
		"=HYPERLINK(\"x\")":  "'=HYPERLINK(\"x\")",
		"+1+1":               "'+1+1",
		"-1+1":               "'-1+1",
		"@SUM(A1)":           "'@SUM(A1)",
		"\tx":                "'\tx",
		"\rx":                "'\rx",
		"-2.5":               "-2.5",
		"-0.000012":          "-0.000012",
		"+7":                 "+7",
		"-1e-3":              "-1e-3",
		"-.5":                "-.5",
		"-":                  "'-",
		"-.":                 "'-.",
		"-1e":                "'-1e",
		"-Inf":               "'-Inf",
		"-0x1p3":             "'-0x1p3",
		"-1 ":                "'-1 ",
		"POINT(-2.6 53.5)":   "POINT(-2.6 53.5)",
		"E01006256":          "E01006256",
		"2020-01-01":         "2020-01-01",
		"-2.6,=cmd|' /C x'!": "'-2.6,=cmd|' /C x'!",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSpoolsShareOneMemoryBudget: once the budget is spent, spools write to
// their files; released memory returns to the budget.
func TestSpoolsShareOneMemoryBudget(t *testing.T) {
	budget := newSpoolBudget(3 * spoolChunk)
	a, b := newSpool(budget), newSpool(budget)
	if _, err := a.Write(make([]byte, 2*spoolChunk)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(make([]byte, 2*spoolChunk)); err != nil {
		t.Fatal(err)
	}
	if len(a.chunks) != 2 || len(b.chunks) != 1 || a.file != nil || b.file == nil {
		t.Errorf("chunks %d and %d, files %v and %v: want 2 in memory, then 1 and a file", len(a.chunks), len(b.chunks), a.file != nil, b.file != nil)
	}
	a.Release()
	b.Release()
	if left := budget.left.Load(); left != 3*spoolChunk {
		t.Errorf("budget %d after release, want %d", left, 3*spoolChunk)
	}
}
