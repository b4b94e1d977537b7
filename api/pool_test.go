package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"nbhd/api"
	"nbhd/data"
)

// A request never holds one pooled connection while waiting for another:
// with more concurrent requests than connections, each would wait for a
// second while holding its first, and all of them would answer 503 when
// the acquire timeout ran out. England's profiles did, under load.
func TestConcurrentRequestsNeverWaitForASecondConnection(t *testing.T) {
	e := newEnvWith(t, api.Config{}, data.Config{MaxConns: 2, AcquireTimeout: 3 * time.Second})
	paths := []string{"/neighbourhoods/ward/E05000841", "/neighbourhoods/msoa/E02001287", "/boroughs/E08000010",
		"/gp-practices/P92001/doorstep", "/insights/investment?set=ward", "/insights/asset-gaps?set=ward",
		"/neighbourhoods/ward", "/search?q=WN1", "/collections/small-areas/items?limit=50"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[string]int{}
	for i := range 24 {
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			for range 3 {
				r, _ := e.get(t, p)
				if r.StatusCode != http.StatusOK {
					mu.Lock()
					failed[p] = r.StatusCode
					mu.Unlock()
				}
			}
		}(paths[i%len(paths)])
	}
	wg.Wait()
	for p, code := range failed {
		t.Errorf("%s under %d concurrent requests on 2 connections: %d", p, 24, code)
	}
}
