"""The musebot face."""
