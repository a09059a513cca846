"""The ChatGPT-proxy face (seed 001): /openai/* and /send, for the 2023 proxy's front-ends."""
