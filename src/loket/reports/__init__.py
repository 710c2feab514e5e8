"""Reports ("meldingen"): problems in public space, with a category, a place and photos, sent to the
authority that handles them; a logged-in reporter follows one as a running case in Mijn zaken."""
