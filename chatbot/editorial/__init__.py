"""Editors' reports built from stored conversations (content gaps)."""
