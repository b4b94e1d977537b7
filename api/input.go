package api

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// checkInput refuses, with a 400 naming the parameter, a request whose path
// or query holds a NUL byte or bytes that are not UTF-8, or whose query is
// not valid URL encoding, before any handler sees it: such text can be
// neither a name nor a code in nbhd, and PostgreSQL would refuse it as a
// query argument.
func checkInput() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := inputError(c); err != nil {
			writeError(c, err)
			return
		}
		c.Next()
	}
}

func badText(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }

func inputError(c *gin.Context) *Error {
	if badText(c.Request.URL.Path) {
		for _, p := range c.Params {
			if badText(p.Value) {
				return badRequest("path parameter %s holds a NUL byte or bytes that are not UTF-8 text", p.Key)
			}
		}
		return badRequest("the path holds a NUL byte or bytes that are not UTF-8 text")
	}
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return badRequest("the query string is not valid URL encoding: separate parameters with & and write %% as %%25")
	}
	for k, vs := range q {
		if badText(k) {
			return badRequest("a query parameter name holds a NUL byte or bytes that are not UTF-8 text")
		}
		for _, v := range vs {
			if badText(v) {
				return badRequest("query parameter %q holds a NUL byte or bytes that are not UTF-8 text", k)
			}
		}
	}
	return nil
}
