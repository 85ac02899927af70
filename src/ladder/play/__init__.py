"""`ladder play`: a live playground in the browser, with ladder's real models and loop behind it."""
