package helm

// The metrics the bridge exposes (README "Operations" and the outbound engine's contract,
// issue 8). Alerts and dashboard panels may only name these: a typo, or a metric the bridge
// stopped exposing, fails the test instead of an alert that can never fire.
var metricContract = map[string]string{
	"webhook_bridge_deliveries_total":                     "counter",
	"webhook_bridge_delivery_attempts_total":              "counter",
	"webhook_bridge_delivery_latency_seconds":             "histogram",
	"webhook_bridge_circuit_state":                        "gauge",
	"webhook_bridge_inbound_requests_total":               "counter",
	"webhook_bridge_inbound_publish_seconds":              "histogram",
	"webhook_bridge_inbound_verify_failures_total":        "counter",
	"webhook_bridge_inbound_duplicates_total":             "counter",
	"webhook_bridge_build_info":                           "gauge",
	"webhook_bridge_start_time_seconds":                   "gauge",
	"webhook_bridge_connector_lag_records":                "gauge",
	"webhook_bridge_connector_oldest_undelivered_seconds": "gauge",
	"webhook_bridge_connector_retention_headroom_seconds": "gauge",
	"webhook_bridge_connector_in_flight_records":          "gauge",
	"webhook_bridge_connector_paused":                     "gauge",
	"webhook_bridge_connector_assigned_partitions":        "gauge",
	"webhook_bridge_connector_commits_total":              "counter",
	"webhook_bridge_connector_committed_offset":           "gauge",
	"webhook_bridge_connector_stored_offset":              "gauge",
	"webhook_bridge_connector_consumed_offset":            "gauge",
	"webhook_bridge_dead_letter_write_failures_total":     "counter",
	"webhook_bridge_dead_letter_reduced_total":            "counter",
	"webhook_bridge_ready":                                "gauge",
	"webhook_bridge_fatal_errors_total":                   "counter",
}
