"""WTForms classes: CSRF and rendering; business validation lives in the services."""
