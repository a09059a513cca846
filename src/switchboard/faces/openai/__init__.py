"""The OpenAI-compatible API (/v1/*): Switchboard as a gateway any OpenAI SDK can use."""
