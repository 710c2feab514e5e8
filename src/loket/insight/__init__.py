"""Insight: usage and quality figures for operators and content owners (`/beheer`)."""
