"""The command line (`satchel …`): a front end, as the TUI and the MCP server are."""
