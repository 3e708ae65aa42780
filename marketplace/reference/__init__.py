"""Reference data shipped with the platform (the field taxonomy)."""
