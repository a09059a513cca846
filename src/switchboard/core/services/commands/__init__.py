"""Slash commands from any face or platform (slash), their media commands such as /photo and /video
(media), and the multi-agent /task (agents)."""
