"""Tools for the model: the loop that runs tool calls and feeds results back (runner), and the tools
API with MCP server administration (catalog)."""
