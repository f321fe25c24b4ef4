package rules

// QueueLen is how many orders the engine's kitchen queue tracks.
func (e *Engine) QueueLen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue.open)
}
