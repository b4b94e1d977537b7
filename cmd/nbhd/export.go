package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/paulmach/orb/maptile"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"nbhd/data"
	"nbhd/tiles"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("export")
	url := databaseFlag(fs)
	layer := fs.String("layer", data.AllLayers, "layer `id`, all for every public layer, or layer ids joined by commas (one MVT layer each)")
	minZoom := fs.Int("minzoom", 0, "first `zoom` level")
	maxZoom := fs.Int("maxzoom", tiles.DetailZoom, "last `zoom` level")
	workers := fs.Int("workers", 4, "`N` tiles rendered at once")
	stmtTimeout := fs.Duration("statement-timeout", time.Minute, "longest one tile's query may run")
	pos, err := parseArgs(fs, args, stdout, help{
		usage: "nbhd export pmtiles [flags] OUT.pmtiles",
		about: `Renders every vector tile that covers the data, at the zooms asked, into one PMTiles v3 archive
for static or CDN hosting: the same gzip bytes the server sends, with vector_layers and
attribution in its metadata. An import during the export spoils it, so then nothing is written.`,
		examples: []string{"nbhd export pmtiles --layer all --minzoom 0 --maxzoom 14 borough.pmtiles",
			"nbhd export pmtiles --layer small-areas --maxzoom 12 small-areas.pmtiles"},
	})
	if err != nil {
		return err
	}
	if len(pos) == 0 || pos[0] != "pmtiles" {
		return usageError{"export what? the one format is pmtiles: nbhd export pmtiles OUT.pmtiles (nbhd export --help)"}
	}
	if len(pos) != 2 {
		return usageError{"need one OUT.pmtiles file: nbhd export pmtiles OUT.pmtiles"}
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
	layers, key, err := cat.Tiles(*layer)
	if err != nil {
		return usageError{fmt.Sprintf("--layer %s: %v: use all, a layer id (e.g. small-areas) or layer ids joined by commas", *layer, err)}
	}
	src := cat.TileSource(key, layers)
	if !src.HasData {
		return errors.New("the layers have no data: nothing to export")
	}
	for i := range src.Layers {
		src.Layers[i].MinZoom, src.Layers[i].MaxZoom = max(*minZoom, src.Layers[i].MinZoom), *maxZoom
	}
	tj := tiles.NewTileJSON(src, "")
	tj.Tiles = nil
	out := pos[1]
	bar := newTileBar(stderr, tiles.CoverCount(src.Extent, maptile.Zoom(tj.MinZoom), maptile.Zoom(tj.MaxZoom)))
	stats, err := store.ExportArchive(ctx, layers, src, tj, out, *workers, cat.Version, bar.add)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d tiles with features at z%d-z%d (data version %d)\n", out, stats.Tiles, *minZoom, *maxZoom, cat.Version)
	if stats.Tiles > 0 {
		t := stats.Largest
		fmt.Fprintf(stdout, "largest tile %d/%d/%d: %d bytes (%d gzip); %d tiles over %d bytes; %d drawn lighter to stay under it\n",
			t.Z, t.X, t.Y, stats.LargestBytes, stats.LargestGzip, stats.Oversize, data.OversizeBytes, stats.Lighter)
	}
	return nil
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
