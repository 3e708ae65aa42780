"""Read side of the marketplace, one module per domain.

Views and API handlers call these functions with plain arguments (viewer, filters, page, per_page) and get rows or
pages back; visibility is applied here through ``services.access`` so that no read path forgets it.
"""
