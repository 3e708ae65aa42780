"""Business logic. Services take plain data, flush (never commit) and raise DomainError subclasses."""
