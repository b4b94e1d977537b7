package api

import "time"

// SetPurgeRetry shortens the purge hook's first retry wait, for tests.
func SetPurgeRetry(s *Server, d time.Duration) {
	if s.purge != nil {
		s.purge.firstRetry = d
	}
}
