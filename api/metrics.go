package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"nbhd/data"
)

// metrics holds the server's Prometheus collectors on a registry of its own,
// so two servers in one test process do not collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// tileHits counts the cached tiles served without the router;
	// tileOK and tileTime are the tile route's series of a GET answered
	// 200, looked up once.
	tileHits prometheus.Counter
	tileOK   prometheus.Counter
	tileTime prometheus.Observer
}

func newMetrics(store *data.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nbhd_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "nbhd_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		tileHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nbhd_tile_direct_hits_total",
			Help: "Cached tiles served without the router (a part of nbhd_tile_cache_hits_total).",
		}),
	}
	m.tileOK = m.requests.WithLabelValues(tileRoute, http.MethodGet, "200")
	m.tileTime = m.duration.WithLabelValues(tileRoute, http.MethodGet)
	m.reg.MustRegister(m.requests, m.duration, m.tileHits, poolCollector{store},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.observe(route(c), c.Request.Method, c.Writer.Status(), start)
	}
}

// observeTile is observe for the tile route.
func (m *metrics) observeTile(method string, status int, start time.Time) {
	if method != http.MethodGet || status != http.StatusOK {
		m.observe(tileRoute, method, status, start)
		return
	}
	m.tileOK.Inc()
	m.tileTime.Observe(time.Since(start).Seconds())
}

// observe counts a request to route answered with status and records how
// long it took since start.
func (m *metrics) observe(route, method string, status int, start time.Time) {
	m.requests.WithLabelValues(route, method, itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// poolCollector reports pgx pool statistics at scrape time.
type poolCollector struct{ store *data.Store }

var (
	poolAcquired = prometheus.NewDesc("nbhd_db_pool_acquired_conns", "Connections in use.", []string{"pool"}, nil)
	poolIdle     = prometheus.NewDesc("nbhd_db_pool_idle_conns", "Idle connections.", []string{"pool"}, nil)
	poolTotal    = prometheus.NewDesc("nbhd_db_pool_total_conns", "Open connections.", []string{"pool"}, nil)
	poolMax      = prometheus.NewDesc("nbhd_db_pool_max_conns", "Pool size limit.", []string{"pool"}, nil)
	poolAcquires = prometheus.NewDesc("nbhd_db_pool_acquires_total", "Successful acquires.", []string{"pool"}, nil)
	poolWaits    = prometheus.NewDesc("nbhd_db_pool_empty_acquires_total", "Acquires that waited for a connection.", []string{"pool"}, nil)
	poolCancels  = prometheus.NewDesc("nbhd_db_pool_canceled_acquires_total", "Acquires cancelled by their context.", []string{"pool"}, nil)
	poolWaitSecs = prometheus.NewDesc("nbhd_db_pool_acquire_seconds_total", "Time spent acquiring connections.", []string{"pool"}, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolWaits, poolCancels, poolWaitSecs} {
		ch <- d
	}
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, s := range p.store.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolCancels, prometheus.CounterValue, float64(s.CanceledAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitSecs, prometheus.CounterValue, s.AcquireDuration().Seconds(), name)
	}
}
