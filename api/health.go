package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"nbhd/data"
)

// healthz says the process is up; it touches nothing else.
func (s *Server) healthz(c *gin.Context) error {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
	return nil
}

// readyz says the database answers and its schema is current and, with
// read replicas, reports each one's lag: it fails when none is within
// --max-replica-lag, so a load balancer sends requests to servers whose
// replicas are current.
func (s *Server) readyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	c.Header("Cache-Control", "no-store")
	err := s.store.Ready(ctx)
	var lag *data.ReplicaLagError
	if errors.As(err, &lag) {
		logger(c).Warn("not ready", "err", err)
		c.Header("Retry-After", retryAfter)
		c.JSON(http.StatusServiceUnavailable, gin.H{"code": "NotReady", "description": lag.Error(),
			"data_version": s.store.Version(), "replicas": lag.Replicas})
		return nil
	}
	if err != nil {
		desc := "database unreachable"
		var changed *data.MigrationChangedError
		var unknown *data.UnknownMigrationError
		switch {
		case errors.Is(err, data.ErrMigrationsPending):
			desc = "database schema is not current: run nbhd migrate"
		case errors.As(err, &changed), errors.As(err, &unknown):
			// Names a migration file, not database internals.
			desc = err.Error()
		}
		logger(c).Warn("not ready", "err", err)
		c.Header("Retry-After", retryAfter)
		return &Error{Status: http.StatusServiceUnavailable, Code: "NotReady", Description: desc}
	}
	body := gin.H{"status": "ready", "data_version": s.store.Version()}
	if rs := s.store.Replicas(); rs != nil {
		body["replicas"] = rs
	}
	c.JSON(http.StatusOK, body)
	return nil
}
