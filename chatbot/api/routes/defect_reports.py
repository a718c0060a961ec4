"""Defect reports: the categories, a new report (forwarded to the Open311 endpoint or
made a ticket), its status for the citizen, and the agents' list.

A report is stored before it is forwarded, so an outage of the endpoint delays it
but loses nothing: the answer is then 201 with `state: "pending"` and the report is
forwarded by the background task. Rate-limited (`CHATBOT_RATE_LIMIT_DEFECT_REPORTS`);
its body may be larger than other requests' by the photo limit.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, status
from pydantic import AfterValidator

from chatbot.api.deps import (
    CalendarsDep,
    ComposerDep,
    CurrentAgent,
    DatabaseDep,
    DbSession,
    DefectCatalogueDep,
    DefectForwarderDep,
    NowDep,
    SettingsDep,
    header_token,
)
from chatbot.api.problems import IDEMPOTENCY_HEADER
from chatbot.api.routes.tickets import IDEMPOTENCY_KEY_PATTERN
from chatbot.api.schemas.common import validate_lang
from chatbot.api.schemas.defect_reports import (
    CategoryPublic,
    DefectReportAgent,
    DefectReportCreate,
    DefectReportCreated,
    DefectReportPublic,
    DefectServicesPublic,
    MapPublic,
)
from chatbot.config import Settings, parse_lat_lon
from chatbot.defects.catalogue import Catalogue
from chatbot.defects.client import Open311UnavailableError
from chatbot.defects.photos import PHOTO_TYPES, decode_photo
from chatbot.defects.reports import (
    DefectRequest,
    create_report,
    get_report_for_citizen,
    list_reports,
    ticket_reference,
)
from chatbot.dialogue.compose import Composer
from chatbot.storage.models import DEFECT_STATES, DefectReport

log = logging.getLogger(__name__)

SERVICES_UNAVAILABLE_DETAIL = ("the defect reporting system is unavailable; retry in a few "
                               "minutes or call the hotline")

router = APIRouter(prefix="/api/v1", tags=["defect reports"])

ReferencePath = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$"),
                          AfterValidator(str.upper)]
TokenHeader = Annotated[str | None, Header(
    alias="X-Access-Token", max_length=200,
    description="The report's access token from its creation (never in the URL)")]
Lang = Annotated[str, Query(max_length=8), AfterValidator(validate_lang)]
IdempotencyKey = Annotated[str | None, Header(
    alias=IDEMPOTENCY_HEADER, pattern=IDEMPOTENCY_KEY_PATTERN,
    description="A client-chosen unique value (e.g. a UUID); a retried request with the "
                "same key and body returns the first report instead of a second one")]


def _categories(catalogue: Catalogue, lang: str) -> dict[str, str] | None:
    """code -> name; None when the endpoint is down and its list was never read (the
    report is then stored unchecked: the endpoint decides when it is back)."""
    try:
        return catalogue.names(lang)
    except Open311UnavailableError:
        return None


@router.get("/defect-reports/services", response_model=DefectServicesPublic,
            summary="Categories of defect reports",
            responses={503: {"description": "The Open311 endpoint cannot be reached and its "
                                            "service list was never read"}})
def services(catalogue: DefectCatalogueDep, settings: SettingsDep,
             lang: Lang = "de") -> DefectServicesPublic:
    try:
        categories = catalogue.categories(lang)
    except Open311UnavailableError as exc:
        log.warning("defect report categories unavailable: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=SERVICES_UNAVAILABLE_DETAIL) from None
    return DefectServicesPublic(
        categories=[CategoryPublic(code=c.code, name=c.name, description=c.description,
                                   group=c.group) for c in categories],
        forwarding="open311" if catalogue.forwards else "ticket",
        photo_max_bytes=settings.defect_photo_max_bytes, photo_types=list(PHOTO_TYPES),
        map=_map(settings))


def _map(settings: Settings) -> MapPublic | None:
    if settings.map_tile_url is None:
        return None
    lat, lon = parse_lat_lon(settings.map_center)
    return MapPublic(tile_url=settings.map_tile_url, lat=lat, lon=lon, zoom=settings.map_zoom,
                     attribution=settings.map_attribution)


@router.post(
    "/defect-reports", response_model=DefectReportCreated, status_code=status.HTTP_201_CREATED,
    summary="Report a defect (street light, pothole, illegal dumping, ...)",
    responses={200: {"description": "Replay of an earlier request with the same "
                                    "Idempotency-Key", "model": DefectReportCreated},
               413: {"description": "The body (the photo) is too large"},
               422: {"description": "Missing location, unknown category, a photo that is "
                                    "too large or no JPEG/PNG/WebP (named in "
                                    "`detail[].loc`); nothing stored or forwarded"},
               429: {"description": "Too many reports from this address"}},
)
def post_report(body: DefectReportCreate, response: Response, database: DatabaseDep,
                catalogue: DefectCatalogueDep, forwarder: DefectForwarderDep,
                calendars: CalendarsDep, settings: SettingsDep, composer: ComposerDep,
                now: NowDep, idempotency_key: IdempotencyKey = None) -> DefectReportCreated:
    photo, photo_type = (decode_photo(body.photo, max_bytes=settings.defect_photo_max_bytes)
                         if body.photo else (None, None))
    request = DefectRequest(
        service_code=body.category, description=body.description, language=body.lang,
        consent=body.consent, address_string=body.address, lat=body.lat, lon=body.lon,
        email=body.email, photo=photo, photo_type=photo_type,
        conversation_id=body.conversation_id)
    categories = _categories(catalogue, body.lang)
    with database.write_session() as session:
        created = create_report(
            session, request=request, categories=categories, now=now,
            to_ticket=forwarder is None,
            fallback_department=settings.open311_fallback_department,
            departments=calendars.departments, hotline_phone=settings.hotline_phone,
            idempotency_key=idempotency_key)
        report_id, reference = created.report.id, created.report.reference
        state, service_request_id = created.report.state, created.report.service_request_id
    if created.replayed:
        response.status_code = status.HTTP_200_OK
    try:  # the report is stored: whatever fails now, the citizen gets its reference
        if forwarder is not None:
            forwarder.forward_now(report_id)  # a replay's report is claimed only if still due
        with database.session() as session:
            report = session.get(DefectReport, report_id)
            assert report is not None
            state, service_request_id = report.state, report.service_request_id
    except Exception:
        log.exception("defect report %s stored, but forwarding it now failed; the "
                      "background task sends it", reference)
    situation = {"forwarded": "forwarded", "pending": "queued", "ticket": "ticket",
                 "failed": "failed"}[state]
    return DefectReportCreated(
        reference=reference, access_token=created.access_token, state=state,
        service_request_id=service_request_id, ticket_reference=created.ticket_reference,
        text=composer.render(body.lang, "defect_report", situation=situation, id=reference))


@router.get(
    "/defect-reports/{reference}", response_model=DefectReportPublic,
    summary="The status of one's own defect report",
    responses={401: {"description": "No X-Access-Token header"},
               404: {"description": "Unknown reference or wrong token (the same answer)"}},
)
def get_report(reference: ReferencePath, request: Request, database: DatabaseDep,
               forwarder: DefectForwarderDep, composer: ComposerDep,
               token: TokenHeader = None, lang: Lang = "de") -> DefectReportPublic:
    token = header_token(request, token, what="report's access token")
    with database.session() as session:
        report_id = get_report_for_citizen(session, reference=reference, token=token).id
    if forwarder is not None:
        forwarder.refresh_status(report_id)  # the endpoint's word, if it can be had now
    with database.session() as session:
        report = session.get(DefectReport, report_id)
        assert report is not None
        return DefectReportPublic(
            reference=report.reference, state=report.state,
            category=report.service_name or report.service_code,
            service_request_id=report.service_request_id,
            ticket_reference=ticket_reference(session, report),
            remote_status=report.remote_status, remote_status_notes=report.remote_status_notes,
            created_at=report.created_at, text=_status_text(composer, report, lang))


def _status_text(composer: Composer, report: DefectReport, lang: str) -> str:
    identifier = report.service_request_id or report.reference
    if report.state == "forwarded":
        situation = "closed" if report.remote_status == "closed" else "open"
    else:
        situation = {"pending": "pending", "failed": "failed", "ticket": "open"}[report.state]
    return composer.render(lang, "defect_report", situation=situation, id=identifier,
                           notes=report.remote_status_notes)


@router.get("/agent/defect-reports", response_model=list[DefectReportAgent],
            tags=["agents"], summary="Defect reports and their forwarding (newest first)",
            responses={401: {"description": "No valid bearer token"},
                       403: {"description": "The token's role is not agent"}})
def agent_reports(_agent: CurrentAgent, session: DbSession,
                  state: Annotated[list[str] | None, Query(
                      description=f"One or more of {', '.join(DEFECT_STATES)}")] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[DefectReportAgent]:
    return [DefectReportAgent(
        reference=r.reference, state=r.state, category=r.service_name or r.service_code,
        address=r.address_string, description=r.description, language=r.language,
        attempts=r.attempts, last_error=r.last_error, service_request_id=r.service_request_id,
        ticket_reference=ticket_reference(session, r), remote_status=r.remote_status,
        remote_checked_at=r.remote_checked_at, created_at=r.created_at,
        forwarded_at=r.forwarded_at, has_photo=r.photo_type is not None)
        for r in list_reports(session, states=state, limit=limit)]
