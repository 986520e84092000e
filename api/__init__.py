"""Store, REST/WebSocket API and the per-call service that composes the other packages."""
