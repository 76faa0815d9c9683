"""Webhooks: integrators' endpoints, and the signed deliveries of photo events to them."""
