// Package api is nbhd's HTTP interface and the only importer of gin: routes
// in one place (server.go), handlers that return errors, one error writer,
// and the middleware for request ids, logging, metrics and CORS.
package api
