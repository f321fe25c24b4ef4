package rules

// QueueLen is how many orders the engine's kitchen queues track.
func (e *Engine) QueueLen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, q := range e.queues {
		n += len(q.open)
	}
	return n
}

// QueueOff leaves the kitchen queues out of e's decisions.
func (e *Engine) QueueOff() { e.queueOff = true }
