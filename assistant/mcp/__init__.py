"""Satchel as a local MCP server (`satchel mcp`): a front end beside the CLI and the TUI.

It imports the core; the core never imports it. Nothing is imported here, so that
`import assistant.mcp` costs nothing: the MCP SDK (starlette, pydantic, uvicorn) is
loaded only when the server starts. docs/mcp.md describes the tools and the privacy
model.
"""
