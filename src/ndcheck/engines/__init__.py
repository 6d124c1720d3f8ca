"""Engines generated from the System IR: explicit (compiled BFS), replay, symbolic (z3)."""
