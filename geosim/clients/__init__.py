"""Clients: producer fleets and consumer groups."""
