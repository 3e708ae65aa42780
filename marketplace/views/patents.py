"""Placeholder blueprint; filled in by the marketplace work."""
from flask import Blueprint

bp = Blueprint("patents", __name__)
