"""The MuseBot HTTP API (seed 002): /user/*, /record/list, /communicate, /conf/*, /command/get, /mcp/*."""
