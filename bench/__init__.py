"""`make bench`: open-loop load against the service and against a no-engine floor."""
