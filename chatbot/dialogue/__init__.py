"""The chat dialogue: language stickiness, follow-ups, answer/clarify/escalate policy,
and replies composed from the jinja2 templates in `prompts/<lang>/`."""
