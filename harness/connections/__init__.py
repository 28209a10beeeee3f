"""Connections: who a run acts for (credentials, connection_config, metadata) and where they come from."""
