"""Conformance suites and fixtures for plugin authors."""
