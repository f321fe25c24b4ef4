package app

import (
	"context"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsjs"
)

// newResends prepares the one re-send of an unacked ready
// (natsjs.Resends) when relay.ready_resend is set; nil when it is 0. It
// starts nothing: startResends does, once the relay consumes.
func (m *Main) newResends(b *natsjs.Buckets) *natsjs.Resends {
	c := m.Config
	if c.Relay.ReadyResend <= 0 {
		return nil
	}
	return &natsjs.Resends{
		JS: m.js, NC: m.nc, Acks: natsjs.RiderAcks{KV: b.RiderAcks}, Delay: c.Relay.ReadyResend,
		Outbox: c.Relay.RiderOutbox, Partitions: c.Stream.Partitions,
		Log: m.Logger.WithGroup("resend"), Metrics: natsjs.NewResendMetrics(m.Registry),
	}
}

// startRiderReceipts keeps what the ack and arrived routes need:
// the rider acks bucket and the platform orders bucket, where an arrival
// becomes the order's rider_arrived_at (created here too, so arrivals are
// kept with no platform configured).
func (m *Main) startRiderReceipts(ctx context.Context, b *natsjs.Buckets) error {
	pb, err := untilReady(ctx, m.Logger, "platform orders bucket", func(ctx context.Context) (*natsjs.PlatformBuckets, error) {
		return natsjs.SetupPlatform(ctx, m.js, m.Config.Stream.Replicas)
	})
	if err != nil {
		return err
	}
	m.receipts = natsjs.RiderReceipts{Orders: m.orders, Assignments: m.assigns, Acks: natsjs.RiderAcks{KV: b.RiderAcks},
		Arrivals: natsjs.PlatformOrders{KV: pb.Orders}}
	if m.Config.Demo.AutoAssign {
		m.receipts.AutoAssignRiders = m.Config.Demo.Riders
	}
	return nil
}

// riderRoutes mounts POST /v1/riders/{rider}/orders/{order}/ack and
// .../arrived on rt.
func (m *Main) riderRoutes(rt *httpapi.Routes) {
	log := m.Logger.WithGroup("api")
	var rr httpapi.RiderReceipts = m.receipts
	rt.RiderAck, rt.RiderArrived = httpapi.RiderAck(rr, log), httpapi.RiderArrived(rr, log)
}
