// Package tracing sets up OpenTelemetry tracing the same way for the three
// programs: a tracer provider per program, an OTLP/HTTP exporter when the
// program's config names an endpoint, and W3C traceparent strings to carry
// a span's context in MQTT payloads, NATS headers and HTTP headers.
//
// With no endpoint (the default) nothing is exported and nothing is
// recorded: spans are started by a provider that samples none, which still
// mints trace and span ids so the traceparent travels and logs correlate
// by trace id, at the cost of an id draw and a small allocation per span.
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config is the tracing section of a program's config file.
type Config struct {
	// Endpoint is the OTLP/HTTP traces URL, e.g.
	// http://127.0.0.1:4318/v1/traces; a URL without a path gets
	// /v1/traces. Empty: tracing is off and nothing is exported.
	Endpoint string `yaml:"otlp_endpoint"`
	// Headers are sent with every export (e.g. an auth token, as
	// "${OTLP_TOKEN}").
	Headers map[string]string `yaml:"headers"`
	// BatchTimeout is the longest a finished span waits before it is
	// exported; 0 means 5 s.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
}

// Validate checks the endpoint URL.
func (c Config) Validate() error {
	if c.Endpoint == "" {
		return nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("tracing.otlp_endpoint: %q is not an http(s) URL", c.Endpoint)
	}
	if c.BatchTimeout < 0 {
		return fmt.Errorf("tracing.batch_timeout: must not be negative")
	}
	return nil
}

// Provider is one program's tracer provider.
type Provider struct {
	tp *sdktrace.TracerProvider
	on bool
}

// New returns the provider for the program named service (the OTLP
// service.name). It starts no connection: the exporter dials on its first
// export. Call Shutdown to flush.
func New(c Config, service string, attrs ...attribute.KeyValue) (*Provider, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(append([]attribute.KeyValue{attribute.String("service.name", service)}, attrs...)...)
	if c.Endpoint == "" {
		return &Provider{tp: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithResource(res))}, nil
	}
	endpoint := c.Endpoint
	if u, _ := url.Parse(endpoint); u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
		endpoint = u.String()
	}
	exp, err := otlptrace.New(context.Background(), newOTLPHTTP(endpoint, c.Headers))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter %s: %w", endpoint, err)
	}
	batch := c.BatchTimeout
	if batch == 0 {
		batch = 5 * time.Second
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(batch)))
	return &Provider{tp: tp, on: true}, nil
}

// Off is a provider that exports nothing, for tests and tools.
func Off() *Provider {
	p, _ := New(Config{}, "passline")
	return p
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p != nil && p.on }

// Tracer returns the named tracer (the instrumenting package's path).
func (p *Provider) Tracer(name string) trace.Tracer { return p.tp.Tracer(name) }

// Shutdown exports what is buffered, waiting at most until ctx ends.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// Close is Shutdown bounded by 5 s, for a program's stop sequence.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Shutdown(ctx)
}
