"""Starting points: `harness init` (a new project), `harness new` (a typed skeleton) and `harness clone`
(a working function from the bundled template catalog, with its cassettes)."""
