"""Running cases ("lopende zaken"): what agencies' back offices report about people's and companies'
requests, the citizen's view of them, and what the assistant may tell about them."""
