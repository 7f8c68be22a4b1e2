"""Metrics (Prometheus) and tracing (OpenTelemetry): the only modules importing them."""
