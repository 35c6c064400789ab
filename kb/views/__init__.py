"""Blueprints, one per concern. Views are thin: validate, call a service, render or redirect."""
