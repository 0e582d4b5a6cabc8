"""The API's request and response shapes, written once: handlers take and return them, and the
OpenAPI document (hub/web/api/openapi.py) is generated from them."""
