// Package metrics exposes Sportello's Prometheus metrics at /metrics:
// requests and latency per route, errors, tickets created, plus the Go
// runtime and process collectors (memory, goroutines, open files).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry with Sportello's collectors; each app has its own
// (no global registry), so tests can run several desks in one process.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	tickets  *prometheus.CounterVec
}

// New builds the registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_http_requests_total",
			Help: "HTTP requests by method, route pattern and status."}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sportello_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"method", "route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_http_errors_total",
			Help: "HTTP responses with a 5xx status, by route pattern."}, []string{"route"}),
		tickets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_tickets_created_total",
			Help: "Tickets created, by channel."}, []string{"channel"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.tickets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
	if status >= 500 && status != 499 {
		m.errors.WithLabelValues(route).Inc()
	}
}

// TicketCreated counts one new ticket.
func (m *Metrics) TicketCreated(channel string) { m.tickets.WithLabelValues(channel).Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
