"""The miochat face."""
