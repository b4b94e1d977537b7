package data

import (
	"context"
	"fmt"
	"sync"

	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/errgroup"

	"nbhd/tiles"
)

// ExportArchive renders every tile at tj's zooms that covers src's extent,
// with a few workers, into a PMTiles archive at path, and returns how many
// tiles it holds. Tiles are compressed with tiles.Gzip, as the server
// compresses them, so an archived tile and a served one are the same bytes.
// An import during the export would mix two versions of the data in one
// archive, so then nothing is written. done, if not nil, is called once per
// tile rendered (a progress bar).
func (s *Store) ExportArchive(ctx context.Context, layers []*Layer, src tiles.Source, tj tiles.TileJSON, path string,
	workers int, version int64, done func()) (int, error) {
	a, err := tiles.CreateArchive(path)
	if err != nil {
		return 0, err
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
				mvt, err := s.Tile(gctx, layers, t)
				if err != nil {
					return err
				}
				gz := tiles.Gzip(mvt)
				mu.Lock()
				err = a.Add(t, gz)
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
		return 0, err
	}
	now, err := s.RefreshVersion(ctx)
	if err != nil {
		return 0, err
	}
	if now != version {
		return 0, fmt.Errorf("the data changed during the export (version %d, now %d); run it again", version, now)
	}
	if err := a.Finish(tj); err != nil {
		return 0, err
	}
	return a.Tiles(), nil
}
