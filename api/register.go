package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"nbhd/data"
	"nbhd/geo"
)

// The asset register over HTTP: OGC API – Features Part 4 (Create,
// Replace, Update and Delete) on the community-assets collection, for staff
// keys with an assets:write scope. data/register.go does the work in one
// transaction; here are the requests' checks and the answers.

// registerLayer is the one writable collection.
const registerLayer = "community-assets"

// maxRegisterBody bounds a write's body: a feature is a few hundred bytes.
const maxRegisterBody = 64 << 10

// Part 4 conformance classes, declared for community-assets.
var registerConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
}

// writable is what a collection says about its writes.
type writable struct {
	Methods     []string `json:"methods"`
	Description string   `json:"description"`
	ConformsTo  []string `json:"conformsTo"`
}

func registerWritable() *writable {
	return &writable{
		Methods: []string{"POST", "PUT", "PATCH", "DELETE"},
		Description: "Staff keep this register: with a staff key (Authorization: Bearer) whose scopes include assets:write for the asset's borough, " +
			"POST items adds an asset, PUT replaces and PATCH (JSON merge patch) updates one with If-Match (its ETag from GET with the key), " +
			"DELETE closes one (it stays in history); every change takes ?note= (why) and is recorded with who and when, " +
			"at items/{featureId}/history. Staff corrections of imported assets survive re-import (edited: true).",
		ConformsTo: registerConformance,
	}
}

// Context key: the borough a staff request concerned, for its audit row.
const auditLadKey = "nbhd.audit_lad"

// isRegisterRoute reports a request for the register's items.
func isRegisterRoute(c *gin.Context) bool {
	return c.Param("collection") == registerLayer && strings.HasPrefix(c.FullPath(), "/collections/:collection/items")
}

// allowedMethods is the Allow header of a path (OPTIONS, 405): the
// register's items also take writes.
func allowedMethods(path string) string {
	rest, ok := strings.CutPrefix(path, "/collections/"+registerLayer+"/items")
	switch {
	case ok && rest == "":
		return "GET, HEAD, POST, OPTIONS"
	case ok && strings.Count(rest, "/") == 1 && len(rest) > 1:
		return "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
	}
	return "GET, HEAD, OPTIONS"
}

// itemOrStaff serves one feature: publicly, or for a staff key on the
// register, as staff see it with its strong ETag (for If-Match).
func (s *Server) itemOrStaff(c *gin.Context) error {
	if c.Param("collection") == registerLayer && c.GetHeader("Authorization") != "" {
		return s.staffAsset(c)
	}
	return s.item(c)
}

// staffAsset serves an asset as staff see it, open or closed.
func (s *Server) staffAsset(c *gin.Context) error {
	k, err := s.staffKey(c)
	if err != nil {
		return err
	}
	if err := noParams(c, "f"); err != nil {
		return err
	}
	if _, err := negotiate(c, fGeoJSON); err != nil {
		return err
	}
	id := c.Param("feature")
	st, err := s.store.StaffAsset(c.Request.Context(), id)
	if err == nil && st.Removed {
		return notFound("asset %s is no longer in %s (its source or its borough was dropped); its history stays at %s/history",
			id, registerLayer, c.Request.URL.Path)
	}
	if err != nil {
		return assetErr(err, id)
	}
	if err := reach(c, k, st); err != nil {
		return err
	}
	c.Header("ETag", st.ETag)
	c.Header("Cache-Control", "private, no-store")
	if etagMatch(c.GetHeader("If-None-Match"), st.ETag) {
		c.Status(http.StatusNotModified) // audited after the fact, with its status
		c.Writer.WriteHeaderNow()
		return nil
	}
	if err := s.auditRead(c, k, st); err != nil {
		return err
	}
	return s.writeFeature(c, st, http.StatusOK)
}

// reach refuses a key that does not reach the asset, and notes the
// asset's borough for the audit.
func reach(c *gin.Context, k data.Key, st data.AssetState) error {
	c.Set(auditLadKey, st.Where.Borough)
	if !k.Reaches(st.Where) {
		return forbidden("asset %s is in %s, which this key does not reach: it reaches %s", st.ID, boroughName(st.Where), k.Reach())
	}
	return nil
}

// auditRead writes the audit row of a staff read before any data goes out.
func (s *Server) auditRead(c *gin.Context, k data.Key, st data.AssetState) error {
	ctx := c.Request.Context()
	if err := s.store.Audit(context.WithoutCancel(ctx), k.ID, c.Request.Method, auditText(c.Request.URL.Path), auditText(c.Request.URL.RawQuery),
		1, http.StatusOK, st.Where.Borough); err != nil {
		return err
	}
	c.Set(auditedKey, true)
	c.Header("Cache-Control", "private, no-store")
	return nil
}

func boroughName(w data.Location) string {
	if w.Borough == "" {
		return "no loaded borough"
	}
	return "borough " + w.Borough
}

// writeFeature answers with an asset as staff see it, and its links.
func (s *Server) writeFeature(c *gin.Context, st data.AssetState, status int) error {
	self := s.baseURL(c) + "/collections/" + registerLayer + "/items/" + url.PathEscape(st.ID)
	links, err := json.Marshal([]link{
		{Href: self, Rel: "self", Type: "application/geo+json", Title: "The asset"},
		{Href: self + "/history", Rel: "version-history", Type: "application/json", Title: "Every version, with who, when and why (staff)"},
		{Href: s.baseURL(c) + "/collections/" + registerLayer, Rel: "collection", Type: "application/json", Title: "Community assets"},
	})
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	c.Header("Content-Crs", "<"+geo.CRS84.URI+">")
	b := newBody(c, fGeoJSON)
	f := st.Feature
	_, _ = b.Write(f[:len(f)-1]) // the feature object ends with "}": add the links inside it
	fmt.Fprintf(b, `, "links": %s}`, links)
	c.Status(status)
	return b.Close()
}

// assetHistory serves every version of an asset, for staff.
func (s *Server) assetHistory(c *gin.Context) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	if l.ID != registerLayer {
		return notFound("only %s keeps a history: see /collections/%s/items/{id}/history", registerLayer, registerLayer)
	}
	k, err := s.staffKey(c)
	if err != nil {
		return err
	}
	if err := noParams(c, "f"); err != nil {
		return err
	}
	if _, err := negotiate(c, fJSON); err != nil {
		return err
	}
	id := c.Param("feature")
	st, versions, err := s.store.AssetHistory(c.Request.Context(), id)
	if err != nil {
		return assetErr(err, id)
	}
	if err := reach(c, k, st); err != nil {
		return err
	}
	if err := s.auditRead(c, k, st); err != nil {
		return err
	}
	self := s.baseURL(c) + "/collections/" + registerLayer + "/items/" + url.PathEscape(id)
	return writeJSON(c, fJSON, map[string]any{
		"id": id, "status": st.Status(), "versions": versions,
		"links": []link{
			{Href: self + "/history", Rel: "self", Type: "application/json", Title: "This history"},
			{Href: self, Rel: "latest-version", Type: "application/geo+json", Title: "The asset"},
		},
	})
}

// The writes: POST creates, PUT replaces, PATCH updates (JSON merge patch),
// DELETE closes.
func (s *Server) createAsset(c *gin.Context) error  { return s.changeAsset(c, data.AssetCreate) }
func (s *Server) replaceAsset(c *gin.Context) error { return s.changeAsset(c, data.AssetReplace) }
func (s *Server) updateAsset(c *gin.Context) error  { return s.changeAsset(c, data.AssetUpdate) }
func (s *Server) closeAsset(c *gin.Context) error   { return s.changeAsset(c, data.AssetClose) }

func forbidden(format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: "Forbidden", Description: fmt.Sprintf(format, args...)}
}

// changeAsset checks a write request, in the order a client can act on
// (collection, key, parameters, body), and makes the change.
func (s *Server) changeAsset(c *gin.Context, action string) error {
	l, _, err := s.layer(c)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	if l.ID != registerLayer {
		c.Header("Allow", "GET, HEAD")
		return &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Description: fmt.Sprintf("%s is read-only: only %s takes changes (from staff keys with assets:write)", l.ID, registerLayer)}
	}
	k, err := s.staffKey(c)
	if err != nil {
		return err
	}
	if !k.WritesAssets() {
		return forbidden("this key may not change assets: it has no assets:write scope (nbhd keys create --scope assets:write,...)")
	}
	allowed := []string{"note"}
	if action == data.AssetClose {
		allowed = append(allowed, "closed_on")
	}
	if err := noParams(c, allowed...); err != nil {
		return err
	}
	note, err := data.CheckNote(c.Query("note"))
	if err != nil {
		return badRequest("%s", err.Error())
	}
	ch := data.AssetChange{Action: action, ID: c.Param("feature"), Note: note, IfMatch: c.GetHeader("If-Match"), Key: k,
		Method: c.Request.Method, Path: auditText(c.Request.URL.Path), Query: auditText(c.Request.URL.RawQuery),
		CRS: geo.CRS84, Status: http.StatusOK}
	switch action {
	case data.AssetCreate:
		ch.Status = http.StatusCreated
	case data.AssetClose:
		ch.Status = http.StatusNoContent
		if ch.ClosedOn, err = closingDate(c.Query("closed_on"), time.Now()); err != nil {
			return err
		}
	}
	if action != data.AssetClose {
		if ch.CRS, err = contentCRS(c); err != nil {
			return err
		}
		body, err := readBody(c, action)
		if err != nil {
			return err
		}
		if ch.Input, err = data.ParseAssetFeature(body, action, ch.CRS); err != nil {
			return badRequest("%s", err.Error())
		}
		if action == data.AssetReplace && ch.Input.ID != "" && ch.Input.ID != ch.ID {
			return badRequest("id: the body's id %q is not the id in the URL (%q): PUT replaces the asset the URL names", ch.Input.ID, ch.ID)
		}
	}
	st, err := s.store.ChangeAsset(c.Request.Context(), ch)
	c.Set(auditLadKey, st.Where.Borough)
	if errors.Is(err, data.ErrBusy) {
		c.Header("Retry-After", "30")
	}
	if err != nil {
		return assetErr(err, ch.ID)
	}
	c.Set(auditedKey, true)
	switch action {
	case data.AssetClose:
		c.Status(http.StatusNoContent)
		c.Writer.WriteHeaderNow()
		return nil
	case data.AssetCreate:
		c.Header("Location", s.baseURL(c)+"/collections/"+registerLayer+"/items/"+url.PathEscape(st.ID))
	}
	c.Header("ETag", st.ETag)
	return s.writeFeature(c, st, ch.Status)
}

// assetErr turns the register's errors into answers.
func assetErr(err error, id string) error {
	var fe *data.FieldError
	var se *data.ScopeError
	var ce *data.ClosedError
	switch {
	case errors.As(err, &fe):
		return badRequest("%s", fe.Error())
	case errors.As(err, &se):
		return forbidden("%s", se.Message)
	case errors.As(err, &ce):
		return &Error{Status: http.StatusGone, Code: "Gone",
			Description: fmt.Sprintf("asset %s was closed on %s and can no longer be changed; its history stays at /collections/%s/items/%s/history",
				ce.ID, ce.On.Format(time.DateOnly), registerLayer, ce.ID)}
	case errors.Is(err, data.ErrNotFound):
		return notFound("no asset %q in %s", id, registerLayer)
	case errors.Is(err, data.ErrPreconditionRequired):
		return &Error{Status: http.StatusPreconditionRequired, Code: "PreconditionRequired",
			Description: "send If-Match with the asset's ETag (from GET of the item with your key, or from your last change's answer), " +
				"so that a change never overwrites one you have not seen"}
	case errors.Is(err, data.ErrPreconditionFailed):
		return &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
			Description: "the asset has changed since you read it (If-Match does not match its ETag; weak W/ tags never match): " +
				"GET it again with your key and make your change to what it is now"}
	case errors.Is(err, data.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: "Unavailable",
			Description: "an import or another change to the data is running; try again shortly (Retry-After)"}
	}
	return err
}

// contentCRS reads the Content-Crs of a request body (OGC API – Features
// Part 2 and Part 4): longitude, latitude when absent.
func contentCRS(c *gin.Context) (geo.CRS, error) {
	h := c.GetHeader("Content-Crs")
	if h == "" {
		return geo.CRS84, nil
	}
	crs, err := geo.ParseCRS(h)
	if err != nil {
		return geo.CRS{}, badRequest("Content-Crs: %s", err.Error())
	}
	return crs, nil
}

// readBody checks a write's media type and reads its body, at most
// maxRegisterBody bytes.
func readBody(c *gin.Context, action string) ([]byte, error) {
	accepted := []string{"application/geo+json", "application/json"}
	if action == data.AssetUpdate {
		accepted = append([]string{"application/merge-patch+json"}, accepted...)
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || !isOneOf(strings.ToLower(mt), accepted) {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType",
			Description: "send the body as " + strings.Join(accepted, " or ") + " (Content-Type)"}
	}
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge, Code: "PayloadTooLarge",
		Description: fmt.Sprintf("the body is over %d KiB: an asset is one GeoJSON point feature", maxRegisterBody>>10)}
	if c.Request.ContentLength > maxRegisterBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxRegisterBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, badRequest("the body could not be read: send it whole, with a correct Content-Length")
	}
	return body, nil
}

// closingDate reads closed_on: a date no later than today, today when
// absent.
func closingDate(s string, now time.Time) (time.Time, error) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if s == "" {
		return today, nil
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil || d.Year() < 1900 {
		return time.Time{}, badRequest("closed_on must be a date (YYYY-MM-DD), e.g. closed_on=%s", today.Format(time.DateOnly))
	}
	if d.After(today) {
		return time.Time{}, badRequest("closed_on %s is in the future: close an asset when it has closed", d.Format(time.DateOnly))
	}
	return d, nil
}
