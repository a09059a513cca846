"""Token allowances: reserve before a call and settle after it (allowances), the per-worker
block leases that keep the gateway off the database on every call (leases), and the worker
heartbeats that let a crashed worker's holds and answers be recovered (recovery)."""
