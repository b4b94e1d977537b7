package tiles

import (
	"encoding/binary"

	"github.com/paulmach/orb/maptile"
)

// The PMTiles v3 layout, from its specification: a 127-byte header, a root
// directory (at most 16 KiB with the header, so one request reads both),
// JSON metadata, leaf directories, then tile data. Directories and metadata
// are gzip-compressed here ("internal compression"), as are the MVT tiles.
const (
	headerLen     = 127
	rootMaxLen    = 16384 - headerLen
	compressGzip  = 2
	tileTypeMVT   = 1
	minLeafLength = 4096
)

// TileID is a tile's PMTiles id: the number of tiles at lower zooms plus
// the tile's position along the Hilbert curve of its zoom, so tiles that are
// close on the map are close in the archive.
func TileID(t maptile.Tile) uint64 {
	id := (uint64(1)<<(2*uint(t.Z)) - 1) / 3
	x, y := t.X, t.Y
	for s := uint32(1) << t.Z >> 1; s > 0; s >>= 1 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		id += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		// Rotate the quadrant so the curve continues in the next one.
		if ry == 0 {
			if rx == 1 {
				x, y = s-1-x%s, s-1-y%s
			}
			x, y = y, x
		}
		x, y = x%s, y%s
	}
	return id
}

// entry addresses runLength consecutive tiles with the same bytes, or (in
// a root directory with leaves) a leaf directory, with runLength 0.
type entry struct {
	tileID    uint64
	offset    uint64
	length    uint32
	runLength uint32
}

// serialise writes a directory: the count, then the columns of tile id
// deltas, run lengths, lengths and offsets (0 for "right after the previous
// entry", else offset+1), all varints, then gzip.
func serialise(es []entry) []byte {
	b := binary.AppendUvarint(nil, uint64(len(es)))
	var last uint64
	for _, e := range es {
		b = binary.AppendUvarint(b, e.tileID-last)
		last = e.tileID
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.runLength))
	}
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(e.length))
	}
	for i, e := range es {
		if i > 0 && e.offset == es[i-1].offset+uint64(es[i-1].length) {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = binary.AppendUvarint(b, e.offset+1)
		}
	}
	return Gzip(b)
}

// directories gives the root directory and the leaf directories: all
// entries in the root when they fit, else leaves of equal numbers of
// entries, grown until the root of pointers to them fits.
func directories(es []entry) (root, leaves []byte) {
	if root := serialise(es); len(root) <= rootMaxLen {
		return root, nil
	}
	size := max(minLeafLength, len(es)/3500)
	for {
		var pointers []entry
		leaves = leaves[:0]
		for i := 0; i < len(es); i += size {
			leaf := serialise(es[i:min(i+size, len(es))])
			pointers = append(pointers, entry{tileID: es[i].tileID, offset: uint64(len(leaves)), length: uint32(len(leaf))})
			leaves = append(leaves, leaf...)
		}
		if root = serialise(pointers); len(root) <= rootMaxLen {
			return root, leaves
		}
		size += size / 5
	}
}

// header is the archive's fixed-size header.
type header struct {
	rootOffset, rootLength, metaOffset, metaLength uint64
	leafOffset, leafLength, dataOffset, dataLength uint64
	addressed, entries, contents                   uint64
	minZoom, maxZoom, centreZoom                   uint8
	bounds                                         [4]int32 // min lon, min lat, max lon, max lat, degrees × 1e7
	centre                                         [2]int32
}

func (h header) bytes() []byte {
	b := make([]byte, 0, headerLen)
	b = append(b, "PMTiles"...)
	b = append(b, 3) // spec version
	for _, v := range []uint64{h.rootOffset, h.rootLength, h.metaOffset, h.metaLength, h.leafOffset, h.leafLength,
		h.dataOffset, h.dataLength, h.addressed, h.entries, h.contents} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	b = append(b, 1, compressGzip, compressGzip, tileTypeMVT, h.minZoom, h.maxZoom) // clustered, compressions, type
	for _, v := range h.bounds {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = append(b, h.centreZoom)
	for _, v := range h.centre {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}
