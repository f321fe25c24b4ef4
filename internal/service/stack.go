package service

import (
	"errors"
	"fmt"
)

// Stack holds what a start-up started, so that it can be stopped in
// reverse order. The zero Stack is empty and ready to use; it is not safe
// for concurrent use.
type Stack struct {
	closers []namedCloser
}

type namedCloser struct {
	name  string
	close func() error
}

// Push adds close, which stops the part called name; Close runs it before
// everything pushed earlier.
func (s *Stack) Push(name string, close func() error) {
	s.closers = append(s.closers, namedCloser{name, close})
}

// PushFunc is Push for a stop that cannot fail.
func (s *Stack) PushFunc(name string, stop func()) {
	s.Push(name, func() error { stop(); return nil })
}

// Close runs every pushed close, last pushed first, even when one fails,
// and empties the stack, so a second Close does nothing. Its error joins
// every failure, each prefixed "close {name}".
func (s *Stack) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.closers[i].name, err))
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}
