package data

import (
	"context"
	"fmt"
	"sync"

	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/errgroup"

	"nbhd/tiles"
)

// ExportStats says what an export wrote: how many tiles with features, and
// the largest (uncompressed, as a client decodes it; the 500 KB guide of
// tippecanoe and of issue 14 applies to those bytes) with how many tiles
// went over OversizeBytes, and how many were drawn lighter to stay under it
// (Lighter: on a coarser grid, or with fewer properties).
type ExportStats struct {
	Tiles        int
	Largest      maptile.Tile
	LargestBytes int
	LargestGzip  int
	Oversize     int
	Lighter      int
}

// OversizeBytes is the tile size worth reporting: MapLibre and tippecanoe
// treat 500 KB as the most a vector tile should weigh.
const OversizeBytes = tiles.MaxBytes

// ExportArchive renders every tile at tj's zooms that covers src's extent,
// with a few workers, into a PMTiles archive at path, and returns how many
// tiles it holds and the largest. Tiles are compressed with tiles.Gzip, as
// the server compresses them, so an archived tile and a served one are the
// same bytes.
// An import during the export would mix two versions of the data in one
// archive, so then nothing is written. done, if not nil, is called once per
// tile rendered (a progress bar).
func (s *Store) ExportArchive(ctx context.Context, layers []*Layer, src tiles.Source, tj tiles.TileJSON, path string,
	workers int, version int64, done func()) (ExportStats, error) {
	var stats ExportStats
	a, err := tiles.CreateArchive(path)
	if err != nil {
		return stats, err
	}
	defer a.Abort()
	todo := make(chan maptile.Tile)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(todo)
		for z := maptile.Zoom(tj.MinZoom); z <= maptile.Zoom(tj.MaxZoom); z++ {
			lo, hi := tiles.Cover(src.Extent, z)
			for x := lo.X; x <= hi.X; x++ {
				for y := lo.Y; y <= hi.Y; y++ {
					select {
					case todo <- maptile.New(x, y, z):
					case <-gctx.Done():
						return gctx.Err()
					}
				}
			}
		}
		return nil
	})
	var mu sync.Mutex // the archive takes one tile at a time
	for range workers {
		g.Go(func() error {
			for t := range todo {
				mvt, step, err := s.tile(gctx, layers, t, nil)
				if err != nil {
					return err
				}
				gz := tiles.Gzip(mvt)
				mu.Lock()
				err = a.Add(t, gz)
				stats.note(t, len(mvt), len(gz))
				if step > 0 {
					stats.Lighter++
				}
				mu.Unlock()
				if err != nil {
					return err
				}
				if done != nil {
					done()
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return stats, err
	}
	now, err := s.RefreshVersion(ctx)
	if err != nil {
		return stats, err
	}
	if now != version {
		return stats, fmt.Errorf("the data changed during the export (version %d, now %d); run it again", version, now)
	}
	if err := a.Finish(tj); err != nil {
		return stats, err
	}
	stats.Tiles = a.Tiles()
	return stats, nil
}

// note counts one rendered tile; ties for the largest go to the first in
// z/x/y order, so the report does not depend on the workers' timing.
func (s *ExportStats) note(t maptile.Tile, size, gz int) {
	if size > OversizeBytes {
		s.Oversize++
	}
	if size > s.LargestBytes || (size == s.LargestBytes && size > 0 && tileLess(t, s.Largest)) {
		s.Largest, s.LargestBytes, s.LargestGzip = t, size, gz
	}
}

func tileLess(a, b maptile.Tile) bool {
	if a.Z != b.Z {
		return a.Z < b.Z
	}
	if a.X != b.X {
		return a.X < b.X
	}
	return a.Y < b.Y
}
