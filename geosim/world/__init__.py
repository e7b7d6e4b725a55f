"""The world the brokers run in: topology, network, faults."""
