package phrase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// maxResponse bounds a chat-completions answer; more is malformed.
const maxResponse = 64 << 10

// Call outcomes, the label of the calls counter.
const (
	outcomeOK        = "ok"
	outcomeTimeout   = "timeout"
	outcomeHTTP      = "http_error"
	outcomeMalformed = "malformed"
	outcomeTransport = "transport_error"
)

// callError carries the outcome label of a failed call.
type callError struct {
	outcome string
	err     error
}

func (e *callError) Error() string { return e.outcome + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens,omitempty"`
	Stream      bool          `json:"stream"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// DecodeCompletion returns the first choice's message content of an
// OpenAI-compatible chat-completions response body.
func DecodeCompletion(body []byte) (string, error) {
	if len(body) > maxResponse {
		return "", fmt.Errorf("response is %d bytes, limit %d", len(body), maxResponse)
	}
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("decode completion: %w", err)
	}
	if len(r.Choices) == 0 {
		return "", errors.New("completion has no choices")
	}
	return r.Choices[0].Message.Content, nil
}

// complete asks the endpoint for one message. ctx bounds the whole call,
// reading the body included.
func (p *Phraser) complete(ctx context.Context, f cloud.Facts, fallback string) (string, error) {
	body, err := json.Marshal(chatRequest{
		Model:       p.cfg.Model,
		Messages:    []chatMessage{{Role: "system", Content: p.systemPrompt(f)}, {Role: "user", Content: userPrompt(f, fallback)}},
		Temperature: p.cfg.Temperature,
		MaxTokens:   p.cfg.MaxTokens,
	})
	if err != nil {
		return "", &callError{outcomeMalformed, err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", &callError{outcomeTransport, err}
	}
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", classify(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return "", classify(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		return "", &callError{outcomeHTTP, fmt.Errorf("endpoint answered %s", resp.Status)}
	}
	text, err := DecodeCompletion(raw)
	if err != nil {
		return "", &callError{outcomeMalformed, err}
	}
	return text, nil
}

func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &callError{outcomeTimeout, err}
	}
	return &callError{outcomeTransport, err}
}

var kindMeaning = map[wire.DecisionKind]string{
	wire.KindReadySoon: "the order will be ready for pickup in about the given minutes",
	wire.KindReady:     "the order is ready for pickup now",
	wire.KindETA:       "updated estimate: the order will be ready in about the given minutes",
	wire.KindDelayed:   "the order is running late; it will be ready in about the given minutes",
	wire.KindCancelled: "the order was cancelled; the rider should not come for it",
}

func (p *Phraser) systemPrompt(f cloud.Facts) string {
	lang := "English"
	if language(f.Locale) == "zh" {
		lang = "Simplified Chinese (简体中文)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You write one short notification to a food delivery rider, in %s.", lang)
	if f.Tone != "" {
		fmt.Fprintf(&b, " Tone: %s.", f.Tone)
	}
	b.WriteString(" Say only what the facts say.")
	if f.ShortCode != "" {
		fmt.Fprintf(&b, " Copy the order code %q exactly.", f.ShortCode)
	}
	if f.Minutes != nil {
		fmt.Fprintf(&b, " Write the minutes as the digits %q.", strconv.Itoa(*f.Minutes))
	}
	if f.Shelf != "" {
		fmt.Fprintf(&b, " Copy the pickup shelf %q exactly.", f.Shelf)
	}
	fmt.Fprintf(&b, " Mention no other number, time, day or order code. One line, at most %d characters, no quotes, no emoji, no links. Reply with the message only.", p.cfg.MaxChars)
	return b.String()
}

func userPrompt(f cloud.Facts, fallback string) string {
	facts := map[string]any{"kind": f.Kind, "meaning": kindMeaning[f.Kind], "store": f.StoreName, "reference_text": fallback}
	if f.ShortCode != "" {
		facts["order_code"] = f.ShortCode
	}
	if f.Minutes != nil {
		facts["minutes"] = *f.Minutes
	}
	if f.Shelf != "" {
		facts["shelf"] = f.Shelf
	}
	b, _ := json.Marshal(facts)
	return "Facts: " + string(b)
}
