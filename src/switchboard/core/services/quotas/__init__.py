"""Token allowances: reserve before a call and settle after it (allowances), and the per-worker
block leases that keep the gateway off the database on every call (leases)."""
