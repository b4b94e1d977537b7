package ingest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// writeCodePoint writes a synthetic national Code-Point Open file of about
// size bytes (headerless, 10 columns, unique postcodes spread over Great
// Britain's grid) and returns its row count. It streams to disk, so the
// benchmark's own memory stays out of the measurement.
func writeCodePoint(path string, size int64) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	rows := 0
	for ; written < size; rows++ {
		i := rows
		// Unique up to 26*26*100*10*26*26 = 457 million rows.
		pc := fmt.Sprintf("%c%c%d %d%c%c", 'A'+i/17576000%26, 'A'+i/676000%26, i/6760%100, i/676%10, 'A'+i/26%26, 'A'+i%26)
		n, err := fmt.Fprintf(w, "%q,10,%d,%d,\"E92000001\",\"E19000001\",\"E18000002\",\"\",\"E0%07d\",\"E05%06d\"\r\n",
			pc, 100000+(i*7919)%500000, 100000+(i*104729)%800000, 8000000+i%300, i%9000)
		if err != nil {
			return 0, err
		}
		written += int64(n)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return rows, f.Close()
}

// peakRSS is the process's resident-set high-water mark (VmHWM in
// /proc/self/status), in MiB. resetPeakRSS restarts it (Linux: writing 5 to
// /proc/self/clear_refs), so the figure covers the import alone. This is
// the Go process; PostgreSQL's memory is its own server's.
func peakRSS(b *testing.B) float64 {
	b.Helper()
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: peak RSS needs Linux")
	}
	for _, line := range bytes.Split(st, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseFloat(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkCodePointNational imports a synthetic national-size Code-Point
// Open file (NBHD_BENCH_MB, default 100 MB) and reports rows/s and the Go
// process's peak RSS. Run it with:
//
//	NBHD_BENCH_MB=100 go test -run '^$' -bench CodePointNational -benchtime 1x ./data/ingest
func BenchmarkCodePointNational(b *testing.B) {
	mb := int64(100)
	if v, err := strconv.ParseInt(os.Getenv("NBHD_BENCH_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	path := filepath.Join(b.TempDir(), "national.csv")
	rows, err := writeCodePoint(path, mb<<20)
	if err != nil {
		b.Fatal(err)
	}
	conn := dbtest.Conn(b, dbtest.New(b, false))
	resetPeakRSS()
	before := peakRSS(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := importFile(conn, "codepoint", path, ingest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows != rows {
			b.Fatalf("%d rows imported, file has %d", res.Rows, rows)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(mb), "file-MB")
	b.ReportMetric(before, "RSS-before-MB")
	b.ReportMetric(peakRSS(b), "peak-RSS-MB")
}
