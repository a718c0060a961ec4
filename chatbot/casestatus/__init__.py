"""Case status from departmental systems ("Auskunft über die Bearbeitungsstände").

The connector contract, for anyone writing another adapter (SQL view, REST API of a
departmental system):

- `lookup(application_number, date_of_birth) -> CaseState | None`.
  `application_number` arrives as the citizen typed it; compare it through
  `normalise_application_number` (case and spaces do not matter). `date_of_birth` is a
  `datetime.date`.
- Return a `CaseState` only when BOTH the number and the date of birth match one case.
  A wrong date of birth and an unknown number must give the same `None`: the answer
  never reveals whether a number exists (nor may timing or logging differ on purpose).
- Raise `ConnectorUnavailableError` when the departmental system cannot be reached or
  read right now (network down, export missing or unreadable); the service then sends
  the citizen to the hotline or a ticket instead of a wrong "nothing found".
- Raise `CaseStatusConfigurationError` when the data is there but malformed (an
  operator's error, named precisely: file and line).
- `CaseState.state` is one of `CASE_STATES`, `CaseState.kind` one of `CASE_KINDS`; the
  citizen-facing texts for them are in `prompts/<lang>/case_status.md.j2`.
- Adapters must be safe to call from several threads at once (the API's thread pool).

Adapter shipped here: `CsvCaseStatusConnector` (`CHATBOT_CASE_STATUS_CSV`).
"""

from chatbot.casestatus.base import (
    CASE_KINDS,
    CASE_STATES,
    CaseState,
    CaseStatusConfigurationError,
    CaseStatusConnector,
    ConnectorUnavailableError,
    normalise_application_number,
    parse_date_of_birth,
    parse_number_and_date,
)
from chatbot.casestatus.csv_export import CsvCaseStatusConnector

__all__ = ["CASE_KINDS", "CASE_STATES", "CaseState", "CaseStatusConfigurationError",
           "CaseStatusConnector", "ConnectorUnavailableError", "CsvCaseStatusConnector",
           "normalise_application_number", "parse_date_of_birth", "parse_number_and_date"]
