"""Request and response bodies, one module per resource (field names are a fixed
contract, see DESIGN.md). Request bodies derive from `constraints.RequestBody`;
responses are built from domain objects in `chatbot.api.mappers`."""
