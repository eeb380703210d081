"""Adapters that put the assistant into other tools: `mcp_server` (AI assistants) and `langchain`.

Each imports its own library, so `import cqvet_qa` needs neither.
"""
