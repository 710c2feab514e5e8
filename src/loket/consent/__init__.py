"""Consent and the processing register: why loket may use whose data, published and enforced."""
