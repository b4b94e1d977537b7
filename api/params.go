package api

import (
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"nbhd/data"
	"nbhd/geo"
	"nbhd/geo/cql2"
)

// Paging limits for items. Larger limits are clamped, not refused, as OGC
// API – Features allows; the OpenAPI document states the maximum.
const (
	defaultLimit = 100
	maxLimit     = 10_000
)

// itemsParams are the parameters every items request may carry; any other
// parameter must be a queryable property of the collection.
var itemsParams = []string{"f", "bbox", "bbox-crs", "crs", "limit", "offset", "properties", "sortby", "datetime",
	"filter", "filter-lang", "filter-crs", "borough"}

// filterParams are the parameters of a CQL2 filter (OGC API – Features
// Part 3), which items and a collection's tiles take.
var filterParams = []string{"filter", "filter-lang", "filter-crs"}

// featureParams are those of a single-feature request.
var featureParams = []string{"f", "crs", "properties"}

// parseCRS reads a crs-like parameter (crs, bbox-crs), CRS84 when absent.
func parseCRS(q url.Values, name string) (geo.CRS, error) {
	v, ok := q[name]
	if !ok {
		return geo.CRS84, nil
	}
	if strings.TrimSpace(v[0]) == "" {
		return geo.CRS{}, badRequest("%s is empty: give a CRS URI such as %s", name, geo.BNG.URI)
	}
	c, err := geo.ParseCRS(v[0])
	if err != nil {
		return geo.CRS{}, badRequest("%s: %v", name, err)
	}
	return c, nil
}

func parseCount(q url.Values, name string, def int) (int, error) {
	v, ok := q[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || n < 0 {
		return 0, badRequest("%s must be a whole number of 0 or more, got %q", name, v[0])
	}
	return n, nil
}

// parseProperties reads properties=a,b: the fields to return, each a field
// of the layer. nil means all.
func parseProperties(q url.Values, l *data.Layer) ([]string, error) {
	v, ok := q["properties"]
	if !ok {
		return nil, nil
	}
	names := []string{}
	for _, p := range strings.Split(v[0], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, ok := l.Field(p); !ok {
			return nil, badRequest("properties: %q is not a property of %s (it has %s)", p, l.ID, fieldNames(l.Fields, false))
		}
		names = append(names, p)
	}
	return names, nil
}

// parseSortBy reads sortby=name,-population (+ or no prefix ascending).
func parseSortBy(q url.Values, l *data.Layer) ([]data.Sort, error) {
	v, ok := q["sortby"]
	if !ok {
		return nil, nil
	}
	var out []data.Sort
	for _, p := range strings.Split(v[0], ",") {
		p = strings.TrimSpace(p)
		desc := strings.HasPrefix(p, "-")
		p = strings.TrimLeft(p, "+-")
		f, ok := l.Field(p)
		if p == "" || !ok || !f.Queryable {
			return nil, badRequest("sortby: %q is not a queryable property of %s (queryables: %s)", p, l.ID, fieldNames(l.Fields, true))
		}
		out = append(out, data.Sort{Field: p, Desc: desc})
	}
	return out, nil
}

func fieldNames(fs []data.Field, queryableOnly bool) string {
	var names []string
	for _, f := range fs {
		if f.Queryable || !queryableOnly {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}

// parseItems turns an items request's query into a feature query. Every
// parameter is checked: a malformed value, or a parameter that is neither
// standard nor a queryable property, is a 400 saying so.
func parseItems(q url.Values, l *data.Layer) (data.FeatureQuery, error) {
	var fq data.FeatureQuery
	var err error
	if fq.CRS, err = parseCRS(q, "crs"); err != nil {
		return fq, err
	}
	if fq.BBoxCRS, err = parseCRS(q, "bbox-crs"); err != nil {
		return fq, err
	}
	if v, ok := q["bbox"]; ok {
		boxes, err := geo.ParseBBoxes(v[0], fq.BBoxCRS)
		if err != nil {
			return fq, badRequest("bbox: %v", err)
		}
		fq.BBox = boxes
	} else if _, ok := q["bbox-crs"]; ok {
		return fq, badRequest("bbox-crs is given without bbox")
	}
	if fq.Limit, err = parseCount(q, "limit", defaultLimit); err != nil {
		return fq, err
	}
	fq.Limit = min(fq.Limit, maxLimit)
	if fq.Offset, err = parseCount(q, "offset", 0); err != nil {
		return fq, err
	}
	if fq.Properties, err = parseProperties(q, l); err != nil {
		return fq, err
	}
	if fq.SortBy, err = parseSortBy(q, l); err != nil {
		return fq, err
	}
	if fq.Where, err = parseFilter(q, l); err != nil {
		return fq, err
	}
	boroughs, err := parseBoroughs(q)
	if err != nil {
		return fq, err
	}
	fq.Where = data.And(fq.Where, boroughs)
	// Filters, in a fixed order so equal requests make equal queries.
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if isOneOf(name, itemsParams) {
			continue
		}
		f, ok := l.Field(name)
		if !ok {
			return fq, badRequest("unknown parameter %q: use %s, or a queryable property (%s)", name, strings.Join(itemsParams, ", "), fieldNames(l.Fields, true))
		}
		if !f.Queryable {
			return fq, badRequest("%q is not queryable on %s (queryables: %s)", name, l.ID, fieldNames(l.Fields, true))
		}
		v, err := f.Parse(q[name][0])
		if err != nil {
			return fq, badRequest("%v", err)
		}
		fq.Filters = append(fq.Filters, data.Filter{Field: name, Value: v})
	}
	return fq, nil
}

// parseBoroughs reads ?borough=CODE[,CODE…]: the features of those boroughs
// only (every collection, list and tile layer has a borough).
func parseBoroughs(q url.Values) (*data.Predicate, error) {
	v, ok := q["borough"]
	if !ok {
		return nil, nil
	}
	var codes []string
	for _, c := range strings.Split(v[0], ",") {
		if c = strings.TrimSpace(c); c != "" {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return nil, badRequest("borough: give one or more local authority district codes, e.g. borough=E08000010 (see /boroughs)")
	}
	p, err := data.BoroughPredicate(codes)
	if err != nil {
		return nil, badRequest("borough: %v (see /boroughs)", err)
	}
	return p, nil
}

// parseFilter reads filter, filter-lang and filter-crs into a predicate
// compiled for the layer; nil when there is no filter. A filter that cannot
// be read or does not fit the layer is a 400 whose description says what is
// wrong and where (line and column in the filter's text).
func parseFilter(q url.Values, l *data.Layer) (*data.Predicate, error) {
	src, ok := q["filter"]
	if !ok {
		for _, name := range filterParams[1:] {
			if _, given := q[name]; given {
				return nil, badRequest("%s is given without filter", name)
			}
		}
		return nil, nil
	}
	if strings.TrimSpace(src[0]) == "" {
		return nil, badRequest("filter is empty: give a CQL2 expression such as imd_decile <= 2 (queryables: %s)", fieldNames(l.Fields, true))
	}
	lang := cql2.LangText
	if v, ok := q["filter-lang"]; ok {
		switch strings.TrimSpace(v[0]) {
		case cql2.LangText:
		case cql2.LangJSON:
			lang = cql2.LangJSON
		default:
			return nil, badRequest("filter-lang must be %s or %s, got %q", cql2.LangText, cql2.LangJSON, v[0])
		}
	}
	crs, err := parseCRS(q, "filter-crs")
	if err != nil {
		return nil, err
	}
	p, err := l.ParseFilter(lang, src[0], crs)
	if err != nil {
		var ce *cql2.Error
		if errors.As(err, &ce) {
			return nil, badRequest("filter: %s", ce.Error())
		}
		return nil, err
	}
	return p, nil
}

// parseFeature reads a single-feature request's query.
func parseFeature(q url.Values, l *data.Layer) (data.FeatureQuery, error) {
	var fq data.FeatureQuery
	var err error
	for name := range q {
		if !isOneOf(name, featureParams) {
			return fq, badRequest("unknown parameter %q: a feature takes %s", name, strings.Join(featureParams, ", "))
		}
	}
	if fq.CRS, err = parseCRS(q, "crs"); err != nil {
		return fq, err
	}
	fq.Properties, err = parseProperties(q, l)
	return fq, err
}

func isOneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
