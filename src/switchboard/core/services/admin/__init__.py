"""Administration: users and their allowances (users), live settings changed while the server runs
(runtime_config), and which models a principal may use (models)."""
