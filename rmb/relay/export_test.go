package relay

// SetURLsForTest replaces the relay's own URLs (tests start relays on random ports first).
func (r *Relay) SetURLsForTest(urls []string) {
	own := map[string]bool{}
	for _, u := range urls {
		if n, err := normalizeRelayURL(u); err == nil {
			own[n] = true
		}
	}
	r.mu.Lock()
	r.ownURLs = own
	r.mu.Unlock()
}
