package natsjs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
)

// Assigner stores an assignment and releases what waited for it;
// relay.Relay.Assign is one.
type Assigner func(ctx context.Context, a wire.Assignment) error

// AssignQueue is the queue group replicas share for assignments, so each
// assignment is handled by one replica.
const AssignQueue = "passline-relay"

// SubscribeAssignments handles assignments sent on passline.{store}.assign;
// it returns once the server has the subscription. A request gets the reply "ok" or "error: ...". Core NATS does not keep an
// assignment sent while no relay runs; platforms that need that use HTTP,
// which answers only after the assignment is stored.
func SubscribeAssignments(nc *nats.Conn, assign Assigner, log *slog.Logger) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(wire.SubjectAssignments, AssignQueue, func(m *nats.Msg) {
		err := handleAssign(m, assign)
		if err != nil {
			log.Warn("assignment refused", "subject", m.Subject, "err", err)
		}
		if m.Reply != "" {
			reply := "ok"
			if err != nil {
				reply = "error: " + err.Error()
			}
			_ = m.Respond([]byte(reply))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", wire.SubjectAssignments, err)
	}
	// The subscription is only buffered until the server has it: make sure
	// it does, so an assignment sent right after the relay is up is answered
	// rather than met with "no responders".
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: flush: %w", wire.SubjectAssignments, err)
	}
	return sub, nil
}

func handleAssign(m *nats.Msg, assign Assigner) error {
	store, err := wire.ParseAssignSubject(m.Subject)
	if err != nil {
		return err
	}
	a, err := wire.DecodeAssignment(m.Data)
	if err != nil {
		return err
	}
	if a.Store != store {
		return fmt.Errorf("assignment store %q does not match subject store %q", a.Store, store)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return assign(ctx, a)
}
