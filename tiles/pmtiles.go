package tiles

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/paulmach/orb/maptile"
)

// Archive writes a PMTiles v3 archive of gzip-compressed MVT tiles for
// static or CDN hosting. Tiles may be added in any order; their bytes are
// spooled to a temporary file beside the output (identical tiles once), and
// Finish writes header, directories and metadata, then the tile data in
// tile-id order (a "clustered" archive). The output appears only when
// Finish succeeds.
//
// The format (header, varint directories, Hilbert tile ids) is small enough
// to write here: the go-pmtiles package would add the cloud storage SDKs it
// also serves from, more than doubling nbhd's binary. The tests read every
// archive back with go-pmtiles, the reference implementation.
type Archive struct {
	path  string
	spool *os.File
	size  uint64
	tiles []spooled
	seen  map[[16]byte]spooled
}

type spooled struct {
	id     uint64
	offset uint64 // in the spool
	length uint32
}

// CreateArchive starts an archive that Finish will write to path.
func CreateArchive(path string) (*Archive, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".nbhd-pmtiles-*")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	return &Archive{path: path, spool: f, seen: map[[16]byte]spooled{}}, nil
}

// Add stores one tile's gzip bytes (from Gzip). Empty tiles are left out:
// readers treat a missing tile as empty.
func (a *Archive) Add(t maptile.Tile, gz []byte) error {
	if len(gz) == 0 {
		return nil
	}
	if len(gz) > math.MaxUint32 {
		return fmt.Errorf("tile %d/%d/%d is too large", t.Z, t.X, t.Y)
	}
	h := fnv.New128a()
	_, _ = h.Write(gz)
	var sum [16]byte
	h.Sum(sum[:0])
	id := TileID(t)
	if s, ok := a.seen[sum]; ok {
		a.tiles = append(a.tiles, spooled{id: id, offset: s.offset, length: s.length})
		return nil
	}
	if _, err := a.spool.Write(gz); err != nil {
		return fmt.Errorf("spool tile: %w", err)
	}
	s := spooled{id: id, offset: a.size, length: uint32(len(gz))}
	a.seen[sum] = s
	a.tiles = append(a.tiles, s)
	a.size += uint64(len(gz))
	return nil
}

// Tiles is the number of non-empty tiles added.
func (a *Archive) Tiles() int { return len(a.tiles) }

// Finish writes the archive with tj's zooms, bounds and centre in its
// header and its name, description, attribution and vector_layers as
// metadata, then removes the spool file.
func (a *Archive) Finish(tj TileJSON) (err error) {
	defer a.Abort()
	if len(a.tiles) == 0 {
		return ErrNoTiles
	}
	slices.SortFunc(a.tiles, func(x, y spooled) int { return cmp.Compare(x.id, y.id) })
	for i := 1; i < len(a.tiles); i++ {
		if a.tiles[i].id == a.tiles[i-1].id {
			return fmt.Errorf("tile id %d added twice", a.tiles[i].id)
		}
	}
	// Lay the data out in tile-id order; a repeated tile points back at
	// its first copy, and runs of one repeated tile become one entry.
	outOffset := map[uint64]uint64{} // spool offset → data offset
	var order []spooled              // unique contents in output order
	var dataLen uint64
	var entries []entry
	for _, t := range a.tiles {
		off, ok := outOffset[t.offset]
		if !ok {
			off = dataLen
			outOffset[t.offset] = off
			order = append(order, t)
			dataLen += uint64(t.length)
		}
		if n := len(entries); n > 0 {
			last := &entries[n-1]
			if last.offset == off && last.tileID+uint64(last.runLength) == t.id {
				last.runLength++
				continue
			}
		}
		entries = append(entries, entry{tileID: t.id, offset: off, length: t.length, runLength: 1})
	}
	root, leaves := directories(entries)
	meta, err := metadata(tj)
	if err != nil {
		return err
	}
	h := header{
		minZoom: uint8(tj.MinZoom), maxZoom: uint8(tj.MaxZoom),
		bounds: [4]int32{e7(tj.Bounds[0]), e7(tj.Bounds[1]), e7(tj.Bounds[2]), e7(tj.Bounds[3])},
		centre: [2]int32{e7(tj.Centre[0]), e7(tj.Centre[1])}, centreZoom: uint8(tj.Centre[2]),
		addressed: uint64(len(a.tiles)), entries: uint64(len(entries)), contents: uint64(len(order)),
	}
	h.rootOffset = headerLen
	h.rootLength = uint64(len(root))
	h.metaOffset = h.rootOffset + h.rootLength
	h.metaLength = uint64(len(meta))
	h.leafOffset = h.metaOffset + h.metaLength
	h.leafLength = uint64(len(leaves))
	h.dataOffset = h.leafOffset + h.leafLength
	h.dataLength = dataLen

	tmp := a.path + ".partial"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create archive: %w", err)
	}
	defer func() {
		if err != nil {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(out, 1<<20)
	for _, b := range [][]byte{h.bytes(), root, meta, leaves} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write archive: %w", err)
		}
	}
	for _, t := range order {
		if _, err := io.Copy(w, io.NewSectionReader(a.spool, int64(t.offset), int64(t.length))); err != nil {
			return fmt.Errorf("write archive: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

// Abort removes the spool file; after Finish it does nothing.
func (a *Archive) Abort() {
	if a.spool == nil {
		return
	}
	_ = a.spool.Close()
	_ = os.Remove(a.spool.Name())
	a.spool = nil
}

// metadata is the archive's JSON metadata, gzip-compressed as the header
// says: TileJSON's descriptive fields, as PMTiles readers expect them.
func metadata(tj TileJSON) ([]byte, error) {
	m := map[string]any{"type": "overlay", "format": "pbf", "vector_layers": tj.VectorLayers}
	for k, v := range map[string]string{"name": tj.Name, "description": tj.Description, "version": tj.Version, "attribution": tj.Attribution} {
		if v != "" {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("archive metadata: %w", err)
	}
	return Gzip(b), nil
}

func e7(deg float64) int32 { return int32(math.Round(deg * 1e7)) }

// ErrNoTiles means an archive would hold no tiles at all.
var ErrNoTiles = errors.New("no tiles: the layers have no data in the zoom range")
