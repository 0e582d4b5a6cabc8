"""The JSON API: the agent API, the API channel's inbound endpoint and the service's own endpoints.

To add an endpoint: write its request and answer shapes in ``models/<area>.py``, a handler
decorated with ``edge.endpoint`` that takes them and returns the answer (calling the area's
services), and list it in the module's ``ENDPOINTS``; ``routes.py`` registers it and the OpenAPI
document (``openapi.py``) follows from the models."""
