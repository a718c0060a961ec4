"""Benchmarks: they print figures for the README; nothing here asserts a time."""
