package template

import (
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// Set is the live templates: embedded defaults plus merchant overrides.
// It is safe for concurrent use.
type Set struct {
	defaults map[Key]*Template // Merchant ""
	mu       sync.RWMutex
	merchant map[Key]*Template
}

// NewSet loads the embedded defaults; it fails only if the binary was built
// with a broken default.
func NewSet() (*Set, error) {
	s := &Set{defaults: map[Key]*Template{}, merchant: map[Key]*Template{}}
	for _, loc := range wire.Locales {
		b, err := defaultFS.ReadFile("defaults/" + loc + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("default templates %s: %w", loc, err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("default templates %s: %w", loc, err)
		}
		for _, kind := range wire.Kinds {
			t, err := Compile(m[string(kind)], 0)
			if err != nil {
				return nil, fmt.Errorf("default template %s/%s: %w", loc, kind, err)
			}
			s.defaults[Key{Kind: kind, Locale: loc}] = t
		}
	}
	return s, nil
}

// Put makes a merchant template live unless an equal or newer version is
// already live. A template that does not compile is refused and the old
// one stays.
func (s *Set) Put(k Key, src string, version uint64) error {
	if err := k.Validate(); err != nil {
		return err
	}
	t, err := Compile(src, version)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.merchant[k]; old != nil && old.Version >= version {
		return nil
	}
	s.merchant[k] = t
	return nil
}

// Delete drops a merchant template; the default applies again.
func (s *Set) Delete(k Key) {
	s.mu.Lock()
	delete(s.merchant, k)
	s.mu.Unlock()
}

// Lookup returns the merchant's template for kind and locale, else the
// default for that locale, else the default in English.
func (s *Set) Lookup(merchant string, kind wire.DecisionKind, locale string) *Template {
	if !validLocale(locale) {
		locale = "en"
	}
	s.mu.RLock()
	t := s.merchant[Key{Merchant: merchant, Kind: kind, Locale: locale}]
	s.mu.RUnlock()
	if t != nil {
		return t
	}
	return s.defaults[Key{Kind: kind, Locale: locale}]
}

// Render renders the text for a merchant's notification. Version is the
// template version used (0 for a default). A merchant template that fails
// on these facts falls back to the default, so a rider still hears.
func (s *Set) Render(merchant string, f cloud.Facts, orderID string) (text string, version uint64, err error) {
	t := s.Lookup(merchant, f.Kind, f.Locale)
	if t == nil {
		return "", 0, fmt.Errorf("no template for kind %q", f.Kind)
	}
	d := DataOf(f, orderID)
	text, err = t.Execute(d)
	if err != nil && t.Version != 0 {
		t = s.Lookup("", f.Kind, f.Locale)
		text, err = t.Execute(d)
	}
	return text, t.Version, err
}
