"""The plugin system: hook specs, registration objects and the fail-soft loader."""
