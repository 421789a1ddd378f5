"""One module per provider: how a message is handed over and how its delivery reports are read."""
