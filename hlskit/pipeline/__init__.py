"""One package run: probe → plan → keys → engine → follow → finish (manifest, stitch, validate, publish, revoke, notify)."""
