"""Push buses: in-process (one worker) and Redis pub/sub (several workers or hosts)."""
