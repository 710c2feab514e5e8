"""Identity: who is logged in, the profile (hoedanigheid) they act in, their mandates and roles, and the
access log of every read of personal data."""
