package push

import (
	"regexp"
	"strings"
	"sync"
)

// Evaluator evaluates rules; it memoizes compiled glob patterns, since
// rules are few and reused for every event. Safe for concurrent use; the
// zero value is ready.
type Evaluator struct {
	globs sync.Map
}

// globRegexp compiles a glob (appendices "Glob-style matching": * any
// sequence, ? one character) case-insensitively; words anchors it at word
// boundaries instead of the whole value.
func (e *Evaluator) globRegexp(pattern string, words bool) *regexp.Regexp {
	key := pattern
	if words {
		key = "w\x00" + pattern
	}
	if re, ok := e.globs.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	var b strings.Builder
	b.WriteString(`(?is)`)
	if words {
		b.WriteString(`(?:^|[^A-Za-z0-9_])`)
	} else {
		b.WriteString(`^`)
	}
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if words {
		b.WriteString(`(?:[^A-Za-z0-9_]|$)`)
	} else {
		b.WriteString(`$`)
	}
	re := regexp.MustCompile(b.String())
	e.globs.Store(key, re)
	return re
}

// globFull matches the whole value.
func (e *Evaluator) globFull(pattern, value string) bool {
	return e.globRegexp(pattern, false).MatchString(value)
}

// globWords matches a substring bounded by word boundaries (the
// content.body rule of event_match and content rules).
func (e *Evaluator) globWords(pattern, value string) bool {
	return e.globRegexp(pattern, true).MatchString(value)
}

// escapeGlob makes a literal (a display name) safe to use as a pattern.
func escapeGlob(s string) string {
	return strings.NewReplacer("*", "?", "?", "?").Replace(s)
}
