"""Domain exceptions. They carry a message meant for the person who caused them;
the API and the CLI translate them at the edge (HTTP status, exit code)."""


class ChatbotError(Exception):
    """Base class of every error the service reports to a user or operator."""


class ConfigurationError(ChatbotError):
    """A setting or a bundled resource is unusable."""


class ModelNotAvailableError(ChatbotError):
    """The embedding model cannot be loaded (not prepared, or an unknown name offline)."""


class ModelOverloadedError(ModelNotAvailableError):
    """A query's encode did not finish in time: the model is overloaded."""


class IndexNotFoundError(ChatbotError):
    """No complete index version exists yet."""


class IndexIncompatibleError(ChatbotError):
    """The index was built with another embedding model or an unreadable format."""


class IndexIntegrityError(ChatbotError):
    """A published index version whose downloaded archive does not match its size or
    SHA-256, or does not hold the version it claims: it is not installed."""


class CorpusError(ChatbotError):
    """The corpus cannot be read at all (missing directory, no valid article)."""


class PublishRefusedError(ChatbotError):
    """A build would replace the current index with one that lost German article versions
    or shrank by more than the allowed share; nothing was published (force overrides)."""


class DatasetError(ChatbotError):
    """An evaluation or training data file named on the command line cannot be read."""


class InvalidQueryError(ChatbotError):
    """A search or chat request that cannot be answered as given."""


# --- escalation back office (tickets, appointments, agents) -------------------------


class NotFoundError(ChatbotError):
    """The ticket, appointment, user or conversation does not exist (or the token is wrong)."""


class AuthenticationError(ChatbotError):
    """No credentials, or credentials that match nobody."""


class PermissionDeniedError(ChatbotError):
    """Valid credentials whose role does not allow the action."""


class InvalidInputError(ChatbotError):
    """A value that passed the schema but not the domain rules (unknown service, past slot).

    `field` names the offending input so the API can report it like a schema error.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(ChatbotError):
    """The request is valid but clashes with the current state."""


class SlotTakenError(ConflictError):
    """Every counter of the appointment slot is booked."""


class ContactLimitError(ConflictError):
    """One e-mail address or phone number has reached its cap of tickets or appointments."""


class InvalidTransitionError(ConflictError):
    """A ticket status change the lifecycle does not allow."""


class DatabaseUnavailableError(ChatbotError):
    """The configured database cannot be opened or reached."""


class RequestTimeoutError(ChatbotError):
    """The request's deadline passed before its write was committed: nothing stored."""
