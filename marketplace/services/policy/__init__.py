"""Policy desk: the catalogue of support measures, which of them fit a firm and why, and filings (备案)."""
