"""Nouns and rules of Switchboard, free of I/O: only the standard library and pydantic."""
