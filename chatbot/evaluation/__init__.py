"""Quality harnesses run by `chatbot eval`: retrieval and language detection."""
