"""The HTTP face of Hotline: the FastAPI app, one dependency module, authentication, request and response
schemas, and the routes.

May import everything below it; only the composition root (``app``) imports it.
"""
