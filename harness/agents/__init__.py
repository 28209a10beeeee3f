"""Actions as tools for LLM agents: definitions in OpenAI, Anthropic and MCP shapes, and tool results."""
