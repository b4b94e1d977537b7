package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// piecesWriter records what timedWriter hands on: each write's size, and
// whether a write deadline was set since the previous write.
type piecesWriter struct {
	*httptest.ResponseRecorder
	armed  bool
	pieces []int
	bare   int // writes without a deadline of their own
}

func (w *piecesWriter) SetWriteDeadline(time.Time) error { w.armed = true; return nil }

func (w *piecesWriter) Write(p []byte) (int, error) {
	w.pieces = append(w.pieces, len(p))
	if !w.armed {
		w.bare++
	}
	w.armed = false
	return w.ResponseRecorder.Write(p)
}

// TestTimedWriterArmsEveryPiece: a body of any size reaches the client in
// pieces of at most writePiece bytes, each under a deadline set just for
// it, so a slow client is cut off by progress, not by the body's size;
// bodies up to writePiece go in one write.
func TestTimedWriterArmsEveryPiece(t *testing.T) {
	for _, c := range []struct {
		size int
		want []int
	}{
		{10, []int{10}},
		{writePiece, []int{writePiece}},
		{writePiece + 1, []int{writePiece, 1}},
		{2*writePiece + 500, []int{writePiece, writePiece, 500}},
	} {
		pw := &piecesWriter{ResponseRecorder: httptest.NewRecorder()}
		tw := &timedWriter{ResponseWriter: pw, rc: http.NewResponseController(pw), timeout: time.Second}
		n, err := tw.Write(make([]byte, c.size))
		if err != nil || n != c.size {
			t.Fatalf("%d bytes: wrote %d, %v", c.size, n, err)
		}
		if !slices.Equal(pw.pieces, c.want) || pw.bare != 0 {
			t.Errorf("%d bytes: pieces %v (%d without a deadline), want %v each under its own", c.size, pw.pieces, pw.bare, c.want)
		}
		if pw.Body.Len() != c.size {
			t.Errorf("%d bytes: %d reached the client", c.size, pw.Body.Len())
		}
	}
}
