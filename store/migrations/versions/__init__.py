"""One module per schema revision, applied in order by `python -m store.migrate`."""
