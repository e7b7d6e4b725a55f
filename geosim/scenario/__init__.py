"""Scenario description: a frozen, validated model with no SimPy in it."""
