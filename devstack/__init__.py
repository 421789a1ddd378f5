"""The local stack behind `make run`: process supervision, the Temporal dev server, dev tokens."""
