package tracing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// otlpHTTP is the OTLP/HTTP protobuf transport for otlptrace: it POSTs an
// ExportTraceServiceRequest to one URL, as otlptracehttp does with the same
// defaults (10 s per request; 429, 502, 503, 504 and temporary network
// errors retried with backoff from 5 s to 30 s for at most a minute,
// honouring Retry-After). It exists because otlptracehttp imports the
// collector's gRPC service and grpc-gateway code, about 2.8 MB of program
// text that every program maps whether tracing is on or not; the request
// here is encoded with protowire (it is one repeated field, number 1), so
// only the trace message types are linked.
//
// Unlike otlptracehttp it does not read OTEL_EXPORTER_OTLP_* environment
// variables: the endpoint and headers come from the program's config.
type otlpHTTP struct {
	url     string
	headers map[string]string
	hc      *http.Client
	stop    chan struct{}
	// retry schedule; tests shorten it.
	first, most, total time.Duration
}

var _ otlptrace.Client = (*otlpHTTP)(nil)

const otlpMaxResponse = 4 << 20

func newOTLPHTTP(url string, headers map[string]string) *otlpHTTP {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &otlpHTTP{url: url, headers: headers, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		stop: make(chan struct{}), first: 5 * time.Second, most: 30 * time.Second, total: time.Minute}
}

func (c *otlpHTTP) Start(context.Context) error { return nil }

func (c *otlpHTTP) Stop(context.Context) error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.hc.CloseIdleConnections()
	return nil
}

// UploadTraces posts one export request, retrying what the OTLP spec
// calls retryable until ctx ends, Stop is called or a minute has passed.
func (c *otlpHTTP) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	body, err := encodeExportRequest(spans)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	deadline := time.Now().Add(c.total)
	wait := c.first
	for {
		throttle, err := c.post(ctx, body)
		var re retryable
		if err == nil || !errors.As(err, &re) {
			return err
		}
		d := max(wait, throttle)
		if time.Now().Add(d).After(deadline) {
			return fmt.Errorf("otlp export: giving up after %s: %w", c.total, err)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, c.most)
	}
}

// retryable marks an error the exporter may retry after throttle.
type retryable struct{ err error }

func (r retryable) Error() string { return "retryable: " + r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// post sends body once; a retryable failure comes back as retryable with
// the server's Retry-After, if any.
func (c *otlpHTTP) post(ctx context.Context, body []byte) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "OTel OTLP Exporter Go/"+otlptrace.Version())
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || ctx.Err() == nil && isTemporary(err) {
			return 0, retryable{err}
		}
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, otlpMaxResponse))
	if err != nil {
		return 0, err
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		if resp.Header.Get("Content-Type") != "application/x-protobuf" {
			return 0, nil
		}
		return 0, partialSuccess(data)
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return retryAfter(resp.Header.Get("Retry-After")), retryable{fmt.Errorf("%s: %s (body: %s)", c.url, resp.Status, bodyText(data))}
	default:
		return 0, fmt.Errorf("failed to send to %s: %s (body: %s)", c.url, resp.Status, bodyText(data))
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func bodyText(b []byte) string {
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return "(empty)"
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(min(s, int64(time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// encodeExportRequest encodes ExportTraceServiceRequest{resource_spans}:
// field 1, repeated ResourceSpans.
func encodeExportRequest(spans []*tracepb.ResourceSpans) ([]byte, error) {
	var out []byte
	for _, rs := range spans {
		b, err := proto.Marshal(rs)
		if err != nil {
			return nil, fmt.Errorf("otlp export: encode spans: %w", err)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}

// partialSuccess reads ExportTraceServiceResponse{partial_success (1):
// {rejected_spans (1), error_message (2)}} and reports rejected spans as an
// error, as otlptracehttp does.
func partialSuccess(b []byte) error {
	ps, err := field(b, 1, protowire.BytesType)
	if err != nil || ps == nil {
		return err
	}
	var rejected uint64
	var msg string
	for len(ps) > 0 {
		num, typ, n := protowire.ConsumeTag(ps)
		if n < 0 {
			return fmt.Errorf("otlp response: %w", protowire.ParseError(n))
		}
		ps = ps[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			rejected, n = protowire.ConsumeVarint(ps)
		case num == 2 && typ == protowire.BytesType:
			var s []byte
			s, n = protowire.ConsumeBytes(ps)
			msg = string(s)
		default:
			n = protowire.ConsumeFieldValue(num, typ, ps)
		}
		if n < 0 {
			return fmt.Errorf("otlp response: %w", protowire.ParseError(n))
		}
		ps = ps[n:]
	}
	if rejected == 0 && msg == "" {
		return nil
	}
	return fmt.Errorf("OTLP partial success: %s (%d spans rejected)", msg, int64(rejected))
}

// field returns the last value of field num with wire type typ in b.
func field(b []byte, num protowire.Number, typ protowire.Type) ([]byte, error) {
	var v []byte
	for len(b) > 0 {
		n0, t0, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("otlp response: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if n0 == num && t0 == typ && typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(n0, t0, b)
		}
		if n < 0 {
			return nil, fmt.Errorf("otlp response: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return v, nil
}
