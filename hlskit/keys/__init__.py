"""Data keys: the key store, wrapping, key resolvers, segment protection and playback tokens."""
