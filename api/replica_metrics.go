package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"nbhd/data"
)

// replicaCollector reports each read replica's lag and data version at
// scrape time (none without replicas).
type replicaCollector struct{ store *data.Store }

var (
	replicaLag     = prometheus.NewDesc("nbhd_replica_lag_seconds", "How far behind the primary a read replica was at its last poll.", []string{"replica"}, nil)
	replicaBehind  = prometheus.NewDesc("nbhd_replica_behind_bytes", "WAL a read replica has yet to replay.", []string{"replica"}, nil)
	replicaVersion = prometheus.NewDesc("nbhd_replica_data_version", "The data version a read replica had replayed at its last poll.", []string{"replica"}, nil)
	replicaUp      = prometheus.NewDesc("nbhd_replica_up", "Whether a read replica answered its last poll.", []string{"replica"}, nil)
	dataVersion    = prometheus.NewDesc("nbhd_data_version", "The data version this server serves.", nil, nil)
)

func (replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicaLag, replicaBehind, replicaVersion, replicaUp, dataVersion} {
		ch <- d
	}
}

func (r replicaCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(dataVersion, prometheus.GaugeValue, float64(r.store.Version()))
	for _, rs := range r.store.Replicas() {
		up := 0.0
		if rs.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, rs.LagSeconds, rs.Name)
		ch <- prometheus.MustNewConstMetric(replicaBehind, prometheus.GaugeValue, float64(rs.BehindBytes), rs.Name)
		ch <- prometheus.MustNewConstMetric(replicaVersion, prometheus.GaugeValue, float64(rs.DataVersion), rs.Name)
		ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, up, rs.Name)
	}
}
