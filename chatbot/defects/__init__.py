"""Defect reports (street light out, pothole, illegal dumping, ...) from the chat to the
utilities' defect reporter, over the Open311 GeoReport v2 API.

- `client`: the HTTP client of the endpoint (services, new requests, their status).
- `catalogue`: the categories the widget offers: the endpoint's service list (cached),
  or built-in categories when reports become tickets.
- `photos`: base64 photos checked by size and by their first bytes (JPEG, PNG, WebP).
- `reports`: storing a report with the citizen's request; the citizen's status look-up.
- `forwarding`: the durable forwarding (the e-mail outbox's claim/lease/backoff design).
"""
