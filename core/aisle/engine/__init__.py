"""The pure, deterministic journey engine and its contracts with node and trigger types."""
