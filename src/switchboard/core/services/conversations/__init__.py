"""What users keep: conversations and their messages (history), chat profiles (profiles), read-only
share links (shares), platform users' records (records), and messages the bot sends first (proactive)."""
