package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/passline/passline/wire"
)

// pathRules are the rules of every path parameter the API's patterns use,
// the same as wire's for the values they name. A parameter missing here
// is refused, so a new route cannot skip its check.
var pathRules = map[string]struct {
	valid func(string) bool
	rule  string
}{
	"store":    {wire.ValidToken, "1-64 characters of A-Z a-z 0-9 _ -"},
	"order":    {wire.ValidToken, "1-64 characters of A-Z a-z 0-9 _ -"},
	"rider":    {wire.ValidToken, "1-64 characters of A-Z a-z 0-9 _ -"},
	"merchant": {wire.ValidToken, "1-64 characters of A-Z a-z 0-9 _ -"},
	"platform": {wire.ValidToken, "1-64 characters of A-Z a-z 0-9 _ -"}, // an unknown one is the handler's 404
	"kind":     {func(s string) bool { return wire.DecisionKind(s).Valid() }, "a decision kind: " + kindList()},
	"locale":   {func(s string) bool { return slices.Contains(wire.Locales, s) }, "one of " + strings.Join(wire.Locales, ", ")},
}

// ValidPath answers 400 naming the parameter when a wildcard of the
// request's route pattern (r.Pattern, e.g. {store}) does not follow
// wire's rules, so no handler, guard or KV key ever sees "..", ">", "*"
// or an over-long id. Mount it inside the mux (it reads r.Pattern).
func ValidPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range wildcards(r.Pattern) {
			rule, known := pathRules[name]
			if v := r.PathValue(name); !known || !rule.valid(v) {
				WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: name,
					Message: name + " must be " + rule.rule})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// wildcards returns the names of pattern's {name} segments.
func wildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		pattern = pattern[i+1:]
		j := strings.IndexByte(pattern, '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(pattern[:j], "..."); name != "$" {
			names = append(names, name)
		}
		pattern = pattern[j+1:]
	}
}

func kindList() string {
	var s []string
	for _, k := range wire.Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}
