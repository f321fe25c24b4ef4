package mqtt

// Backlog is the number of events queued in memory in the current broker
// outage (0 while connected: paho sends them on reconnect).
func (c *Client) Backlog() int64 { return c.backlog.Load() }
