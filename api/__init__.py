"""The HTTP API: Altinn-compatible instant orders, shipment status, the feed and report intake."""
