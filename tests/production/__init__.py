"""Tests of the production stack (gunicorn, PostgreSQL, Meilisearch, Redis + RQ)."""
