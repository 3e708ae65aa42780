"""Demo dataset built from the domain brief (marked as demo data in the UI)."""
