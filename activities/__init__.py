"""Activities: the handover to a gateway, and the records the workflow writes to the store."""
