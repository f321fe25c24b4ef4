package modelcmd

import (
	"io"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/history"
)

// Row, History and BadRow are the history CSV's (package history), named
// here for the model command's evaluation code.
type (
	Row     = history.Row
	History = history.History
	BadRow  = history.BadRow
)

// FitFleet fits a fleet prior per store category from a history, as the
// cloud does (see predict.FitHistory).
func FitFleet(rows []Row) (predict.Fleet, error) { return predict.FitHistory(rows) }

// WriteFleet writes fl as indented JSON (see predict.WriteFleet).
func WriteFleet(w io.Writer, fl predict.Fleet) error { return predict.WriteFleet(w, fl) }

// ReadFleet reads and validates a fleet prior (see predict.ReadFleet).
func ReadFleet(r io.Reader) (predict.Fleet, error) { return predict.ReadFleet(r) }
