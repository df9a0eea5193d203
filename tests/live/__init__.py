"""Tests against the real server, started as separate processes on loopback."""
