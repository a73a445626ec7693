"""CRM integration: provider contracts and the provider-agnostic sync engine."""
