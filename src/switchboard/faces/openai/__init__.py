"""The openai face."""
