"""Cassettes: the vcrpy-format recordings of a scenario, their reading, writing and matching."""
