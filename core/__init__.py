"""Process-wide plumbing shared by the API and the worker: settings, Temporal client, logging."""
