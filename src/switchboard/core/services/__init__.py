"""Use cases. Ports arrive through __init__; nothing here knows a concrete adapter."""
