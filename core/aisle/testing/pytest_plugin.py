"""Aisle's pytest plugin (entry point ``pytest11``): shared fixtures for plugin tests."""
