"""Tests of aisle.testing: the suites against small plugins, and wrong plugins failing them."""
