"""The AstrBot Open API face (seed 003): /api/v1 chat (SSE and WebSocket), sessions, configs, files, IM."""
