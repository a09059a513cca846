"""Administration: users and their allowances (users), live settings changed while the server runs
(runtime_config), which models a principal may use (models) and how the providers are doing
(providers)."""
