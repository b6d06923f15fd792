"""Catalogue documents: their JSON Schema, validation and the seed data that ships with the registry."""
