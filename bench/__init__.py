"""Switchboard benchmark: fake upstream, do-nothing relay, load generator, runner."""
