"""The native REST API (seed 004): auth, conversations, messages, tools, keys, administration."""
