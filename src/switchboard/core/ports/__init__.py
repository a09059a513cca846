"""Small Protocols the engine needs from the outside world, named by role."""
