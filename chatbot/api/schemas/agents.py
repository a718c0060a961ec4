"""Response bodies of the agents' own endpoints (who the token belongs to, colleagues)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AgentPublic(BaseModel):
    name: str
    role: str
    departments: list[str] | None = Field(
        default=None, description="The departments the agent serves; null: all")
    languages: list[str] | None = Field(
        default=None, description="The languages the agent serves; null: all")
