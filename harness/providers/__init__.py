"""The provider catalog (data shipped in `catalog.yaml`, extended in `[tool.harness.providers]`) and its lookup."""
