"""Who is calling: registration, login and logout (auth), API keys (keys), platform identities
linked to users (identities), the short-lived credential cache (principal_cache), role checks (guards).
Every other service package may import this one; it imports none of them."""
