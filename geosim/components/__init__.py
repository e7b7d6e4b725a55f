"""Shared infrastructure components: object storage and the consensus metadata store."""
