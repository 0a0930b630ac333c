package relay

// SetURLsForTest replaces the relay's own URLs (tests start relays on random ports first).
func (r *Relay) SetURLsForTest(urls []string) {
	own := relaySet(urls)
	r.mu.Lock()
	r.ownURLs = own
	r.mu.Unlock()
}
