"""Proactive services: life events and rules as code turned into suggestions."""
