"""Partners: the agencies, cities and apps that use loket's API under their own name, with OAuth2
client credentials, scopes per API and a quota each (docs/adr/0019-partner-access.md)."""
