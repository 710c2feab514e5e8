"""The messages block: signed messages from agencies, the inbox, "is this message real?", and
notifications that carry nothing a phisher could copy."""
