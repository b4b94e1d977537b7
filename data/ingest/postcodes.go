package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"

	"nbhd/geo"
)

func init() {
	register("postcodes", importer{
		help: "postcode centroids CSV with a header: postcode and easting/northing (EPSG:27700, transformed in PostGIS) or lon/lat; positional_quality kept where present",
		ident: func(j Job) (string, string, error) {
			return "postcodes", keyOr(j, "postcodes"), nil
		},
		run: importPostcodes,
	})
}

func importPostcodes(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error) {
	t, err := newTable(job.File, r)
	if err != nil {
		return Result{}, err
	}
	pc, err := t.need("postcode", "pcds", "pcd")
	if err != nil {
		return Result{}, err
	}
	quality := t.col("positional_quality", "positional_quality_indicator")
	x, y, srid := t.col("easting", "eastings", "oseast1m"), t.col("northing", "northings", "osnrth1m"), geo.BNG.SRID
	if x < 0 || y < 0 {
		if x, err = t.need("lon", "longitude", "long"); err != nil {
			return Result{}, err
		}
		if y, err = t.need("lat", "latitude"); err != nil {
			return Result{}, err
		}
		srid = geo.CRS84.SRID
	}
	seen := map[string]int{}
	err = stage(ctx, tx, "postcode_stage", "n integer, postcode text, quality smallint, x double precision, y double precision",
		[]string{"n", "postcode", "quality", "x", "y"},
		func() ([]any, error) {
			rec, err := t.next()
			if err != nil {
				return nil, err
			}
			p := normalisePostcode(field(rec, pc))
			if !postcodeRe.MatchString(p) {
				return nil, t.errf(pc, "%q is not a postcode", field(rec, pc))
			}
			if first, dup := seen[p]; dup {
				return nil, t.errf(pc, "%s already appears on line %d", p, first)
			}
			seen[p] = t.line
			q, err := intIn(t, rec, quality, 0, 99)
			if err != nil {
				return nil, err
			}
			var xv, yv float64
			if srid == geo.BNG.SRID {
				if xv, err = strconv.ParseFloat(field(rec, x), 64); err != nil || xv < 0 || xv > 800_000 {
					return nil, t.errf(x, "easting %q is not a British National Grid easting (0..800000 m)", field(rec, x))
				}
				if yv, err = strconv.ParseFloat(field(rec, y), 64); err != nil || yv < 0 || yv > 1_400_000 {
					return nil, t.errf(y, "northing %q is not a British National Grid northing (0..1400000 m)", field(rec, y))
				}
			} else {
				pt, err := lonLat(t, rec, x, y)
				if err != nil {
					return nil, err
				}
				xv, yv = pt[0], pt[1]
			}
			return []any{t.line, p, q, xv, yv}, nil
		})
	if err != nil {
		return Result{}, err
	}
	if err := clearPrevious(ctx, tx, "postcodes", "postcodes", keyOr(job, "postcodes"), ds); err != nil {
		return Result{}, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO nbhd.postcodes (postcode, quality, geom, dataset_id)
		SELECT postcode, quality, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), $1::integer), 4326), $2 FROM postcode_stage`, srid, ds)
	if err != nil {
		return Result{}, fmt.Errorf("write postcodes: %w", err)
	}
	return Result{Rows: int(tag.RowsAffected())}, nil
}
