"""Response bodies of the agents' own endpoints (who the token belongs to)."""

from __future__ import annotations

from pydantic import BaseModel


class AgentPublic(BaseModel):
    name: str
    role: str
