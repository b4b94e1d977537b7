package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/paulmach/orb/maptile"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"nbhd/data"
	"nbhd/tiles"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "pmtiles" {
		fmt.Fprintln(stderr, "usage: nbhd export pmtiles [--layer all|ID] [--minzoom 0] [--maxzoom 14] OUT.pmtiles")
		return usageError{"export what? the one format is pmtiles"}
	}
	fs := flags("export pmtiles", stderr)
	url := databaseFlag(fs)
	layer := fs.String("layer", data.AllLayers, "layer id, or all for every public layer (one MVT layer each)")
	minZoom := fs.Int("minzoom", 0, "first zoom level")
	maxZoom := fs.Int("maxzoom", tiles.DetailZoom, "last zoom level")
	workers := fs.Int("workers", 4, "tiles rendered at once")
	stmtTimeout := fs.Duration("statement-timeout", time.Minute, "longest one tile's query may run")
	pos, err := parseWithArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"need one OUT.pmtiles file"}
	}
	if *minZoom < 0 || *maxZoom > tiles.MaxZoom || *minZoom > *maxZoom {
		return usageError{fmt.Sprintf("zooms must satisfy 0 <= minzoom <= maxzoom <= %d", tiles.MaxZoom)}
	}
	if *workers < 1 {
		return usageError{"--workers must be at least 1"}
	}
	store, err := data.Open(ctx, data.Config{URL: *url, StatementTimeout: *stmtTimeout, MaxConns: int32(*workers)})
	if err != nil {
		return err
	}
	defer store.Close()
	cat, err := store.Catalogue(ctx)
	if err != nil {
		return err
	}
	layers, src, ok := cat.TileSet(*layer)
	if !ok {
		return usageError{fmt.Sprintf("no layer %q: use all or a layer id (e.g. small-areas)", *layer)}
	}
	if !src.HasData {
		return errors.New("the layers have no data: nothing to export")
	}
	for i := range src.Layers {
		src.Layers[i].MinZoom, src.Layers[i].MaxZoom = *minZoom, *maxZoom
	}
	tj := tiles.NewTileJSON(src, "")
	tj.Tiles = nil
	out := pos[0]
	n, err := exportArchive(ctx, store, layers, src, tj, out, *workers, stderr, cat.Version)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d tiles with features at z%d-z%d (data version %d)\n", out, n, *minZoom, *maxZoom, cat.Version)
	return nil
}

// exportArchive renders every tile at tj's zooms that covers the data's
// extent, with a few workers, into a PMTiles archive at path. Tiles are
// compressed with tiles.Gzip, as the server compresses them, so an archived
// tile and a served one are the same bytes. An import during the export
// would mix two versions of the data in one archive, so then nothing is
// written.
func exportArchive(ctx context.Context, store *data.Store, layers []*data.Layer, src tiles.Source, tj tiles.TileJSON, path string, workers int, stderr io.Writer, version int64) (int, error) {
	a, err := tiles.CreateArchive(path)
	if err != nil {
		return 0, err
	}
	defer a.Abort()
	total := tiles.CoverCount(src.Extent, maptile.Zoom(tj.MinZoom), maptile.Zoom(tj.MaxZoom))
	bar := newTileBar(stderr, total)
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
				mvt, err := store.Tile(gctx, layers, t)
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
				bar.add()
			}
			return nil
		})
	}
	err = g.Wait()
	bar.finish()
	if err != nil {
		return 0, err
	}
	now, err := store.RefreshVersion(ctx)
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

// tileBar counts tiles on a terminal and shows nothing otherwise.
type tileBar struct{ pb *progressbar.ProgressBar }

func newTileBar(w io.Writer, total int) *tileBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &tileBar{}
	}
	return &tileBar{pb: progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("tiles"), progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))}
}

func (b *tileBar) add() {
	if b.pb != nil {
		_ = b.pb.Add(1)
	}
}

func (b *tileBar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}
