"""Persistence of shipments, their history, the status feed and inbound-report bookkeeping."""
