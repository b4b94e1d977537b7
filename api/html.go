package api

import (
	"embed"
	"html/template"
	"io"

	"github.com/gin-gonic/gin"
)

//go:embed html/*.tmpl
var htmlFS embed.FS

var pages = template.Must(template.New("").ParseFS(htmlFS, "html/*.tmpl"))

// crumb is one step of the breadcrumb trail.
type crumb struct{ Title, Href string }

// fact is one row of a key/value table.
type fact struct{ Key, Value, Href string }

// cell is a table cell, a link when Href is set.
type cell struct{ Value, Href string }

type table struct {
	Head []string
	Rows [][]cell
}

// page is what every HTML template renders.
type page struct {
	Base, Title, Description string
	Crumbs                   []crumb
	Formats                  []link
	Facts                    []fact
	Links                    []link
	Table                    *table

	// items pages
	Summary string
	Columns []string
	Paging  []link
}

// itemRow is one feature in an HTML items table.
type itemRow struct {
	ID, Href string
	Values   []string
}

func renderPage(w io.Writer, p *page) error { return pages.ExecuteTemplate(w, "page", p) }

// writeHTML renders a complete page after the caching checks.
func (s *Server) writeHTML(c *gin.Context, p *page) error {
	b := newBody(c, fHTML)
	if err := renderPage(b, p); err != nil {
		return err
	}
	return b.Close()
}

func (s *Server) crumbs(c *gin.Context, trail ...crumb) []crumb {
	return append([]crumb{{"Home", s.baseURL(c) + "/"}}, trail...)
}
