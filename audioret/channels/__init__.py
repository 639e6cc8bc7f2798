"""Channels: each one a way of finding a file, with its own model, its own store collection and the same shape
(:mod:`.base`)."""
