package notifications

import "context"

// customRules returns the set of users whose rules differ from the server
// defaults, loading it on first use. Every other user's rules are
// evaluated once per event for all of them (push.Shared). The set only
// grows while the process runs: a user who deletes all their rules is
// still evaluated on their own, which is correct, just not shortcut.
// The returned map must not be modified.
func (s *Service) customRules(ctx context.Context) (map[string]bool, error) {
	s.mu.Lock()
	set, loaded := s.custom, s.customLoaded
	s.mu.Unlock()
	if loaded {
		return set, nil
	}
	users, err := s.st.UsersWithPushRules(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set = make(map[string]bool, len(users)+len(s.custom))
	for _, u := range users {
		set[u] = true
	}
	for u := range s.custom { // marked by a change while loading
		set[u] = true
	}
	s.custom, s.customLoaded = set, true
	return set, nil
}

// markCustom records that userID changed a rule; s.mu must be held. The
// set is copied, not changed in place, so the worker can keep reading the
// one it has for a whole batch without a lock.
func (s *Service) markCustom(userID string) {
	if s.custom[userID] {
		return
	}
	next := make(map[string]bool, len(s.custom)+1)
	for u := range s.custom {
		next[u] = true
	}
	next[userID] = true
	s.custom = next
}
