"""Outbound webhooks: target checks, signing and the HTTP delivery of one event."""
