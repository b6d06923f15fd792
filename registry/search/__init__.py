"""Search that works for Latvian speakers: folding, query building and the full-text index."""
