"""What every IM platform shares: when to answer (triggers), a platform message as an engine turn
(chat), long answers split (splitting), and connection supervision with backoff (supervisor)."""
