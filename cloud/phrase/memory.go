package phrase

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passline/passline/cloud"
)

// cache holds verified texts with their slot values masked, keyed by the
// facts that shape the wording (kind, locale, tone, store, which slots are
// present, singular or plural minutes) but not by the slot values, so one
// answer serves every order in the same situation. LRU, bounded by size,
// entries expire after ttl.
type cache struct {
	size int
	ttl  time.Duration

	mu    sync.Mutex
	order *list.List // front = most recent; values are *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	key    string
	masked string
	at     time.Time
}

func newCache(size int, ttl time.Duration) *cache {
	return &cache{size: size, ttl: ttl, order: list.New(), items: map[string]*list.Element{}}
}

func cacheKey(f cloud.Facts) string {
	minutes := "none"
	if f.Minutes != nil {
		minutes = "many"
		if *f.Minutes == 1 {
			minutes = "one"
		}
	}
	return strings.Join([]string{string(f.Kind), language(f.Locale), f.Tone, f.StoreName, minutes,
		present(f.ShortCode), present(f.Shelf)}, "\x00")
}

func present(s string) string {
	if s == "" {
		return "-"
	}
	return "+"
}

func (c *cache) get(key string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*cacheEntry)
	if now.Sub(e.at) >= c.ttl {
		c.order.Remove(el)
		delete(c.items, key)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.masked, true
}

func (c *cache) put(key, masked string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = &cacheEntry{key, masked, now}
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key, masked, now})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// unmask puts f's slot values back into a cached text.
func unmask(masked string, f cloud.Facts) string {
	minutes := ""
	if f.Minutes != nil {
		minutes = strconv.Itoa(*f.Minutes)
	}
	return strings.NewReplacer(phCode, f.ShortCode, phShelf, f.Shelf, phMinutes, minutes, phStore, f.StoreName).Replace(masked)
}

// budget counts model calls per merchant per UTC day.
type budget struct {
	limit int

	mu     sync.Mutex
	day    string
	counts map[string]int
}

// take uses one call of merchant's daily budget; false when it is spent.
func (b *budget) take(merchant string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if day := now.UTC().Format(time.DateOnly); day != b.day {
		b.day, b.counts = day, map[string]int{}
	}
	if b.counts[merchant] >= b.limit {
		return false
	}
	b.counts[merchant]++
	return true
}
