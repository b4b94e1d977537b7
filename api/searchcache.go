package api

import (
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultSearchAnswers is how many /search answers are kept when Config
// leaves SearchAnswers 0: at most ten places each, a few hundred bytes to
// 2 KB, so a few MB in all.
const DefaultSearchAnswers = 4096

// searchKey names one answer: the query as sent (trimmed) at one data
// version. A new version makes every older key unreachable.
type searchKey struct {
	version int64
	q       string
}

// searchAnswers keeps /search answers, as the JSON sent, by data version
// and query. A search box sends the same few prefixes over and over ("WN1",
// "Wigan") while an answer changes only with the data, so a repeated
// search costs neither a round trip nor a PostgreSQL backend: on two
// shared cores, that queueing is what held its p99 above 20 ms. Answers
// come from the public pool only, whoever asks, so one cache serves every
// caller. A nil *searchAnswers keeps nothing.
type searchAnswers struct {
	lru          *lru.Cache[searchKey, []byte]
	hits, misses atomic.Int64
}

// newSearchAnswers sizes the cache from Config.SearchAnswers: 0 means
// DefaultSearchAnswers, a negative value none (nil).
func newSearchAnswers(n int) *searchAnswers {
	switch {
	case n == 0:
		n = DefaultSearchAnswers
	case n < 0:
		return nil
	}
	c, _ := lru.New[searchKey, []byte](n) // fails only for n <= 0
	return &searchAnswers{lru: c}
}

func (a *searchAnswers) get(k searchKey) ([]byte, bool) {
	if a == nil {
		return nil, false
	}
	b, ok := a.lru.Get(k)
	if ok {
		a.hits.Add(1)
	} else {
		a.misses.Add(1)
	}
	return b, ok
}

func (a *searchAnswers) add(k searchKey, b []byte) {
	if a != nil {
		a.lru.Add(k, b)
	}
}

// purge drops answers of versions before v: they are never asked for
// again, and this frees their memory at once.
func (a *searchAnswers) purge(v int64) {
	if a == nil {
		return
	}
	for _, k := range a.lru.Keys() {
		if k.version < v {
			a.lru.Remove(k)
		}
	}
}

// searchAnswersCollector reports the answers' counters at scrape time, so
// an operator can size --search-answers from the hit rate.
type searchAnswersCollector struct{ a *searchAnswers }

var (
	searchHits    = prometheus.NewDesc("nbhd_search_answers_hits_total", "Searches answered from memory.", nil, nil)
	searchMisses  = prometheus.NewDesc("nbhd_search_answers_misses_total", "Searches sent to the database (with answers kept).", nil, nil)
	searchEntries = prometheus.NewDesc("nbhd_search_answers_entries", "Search answers kept.", nil, nil)
)

func (searchAnswersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- searchHits
	ch <- searchMisses
	ch <- searchEntries
}

func (c searchAnswersCollector) Collect(ch chan<- prometheus.Metric) {
	var hits, misses, entries int64
	if c.a != nil {
		hits, misses, entries = c.a.hits.Load(), c.a.misses.Load(), int64(c.a.lru.Len())
	}
	ch <- prometheus.MustNewConstMetric(searchHits, prometheus.CounterValue, float64(hits))
	ch <- prometheus.MustNewConstMetric(searchMisses, prometheus.CounterValue, float64(misses))
	ch <- prometheus.MustNewConstMetric(searchEntries, prometheus.GaugeValue, float64(entries))
}
