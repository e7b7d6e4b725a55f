"""Kernel-level building blocks: context, units, distributions, events."""
