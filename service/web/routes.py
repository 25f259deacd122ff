"""Web routes. Thin like the API's: check the form's token and the rate limit, authorize, call a domain
function, render a template. Every template is autoescaped; document text reaches the page only through
service.web.highlight, which escapes it piece by piece."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import FormData, UploadFile

from service.api.app import AppState
from service.api.routes import State
from service.auth import REVIEW_ROLES, Role, authenticate, get_user
from service.cases import case_detail, case_of_document, list_cases, merge_cases, split_case
from service.contract import INDICATOR_IDS, PRESENT_STATUSES, Analysis
from service.db.models import Decision, Document, DocumentStatus, SourceType, User
from service.documents import analysis_of, get_document, latest_analysis
from service.errors import InvalidStateError, NotFoundError
from service.evaluation import HEADLINE
from service.intake import (
    Attachment,
    IntakeForm,
    add_evidence,
    receipt_documents,
    receipt_hash,
    submit_intake,
)
from service.labels import TIERS
from service.review import ClaimConflictError, QueueFilter, agreement, claim, decide, decisions_for, queue
from service.web.highlight import highlight, spans_of
from service.web.i18n import LANGUAGES, choose_language, indicator_name, translate, translate_missing
from service.web.safety import CSRF_FIELD, CSRF_HEADER, RateLimits, csrf_token, csrf_valid

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=True, auto_reload=False)
)
INTAKE_FIELDS = ("producer", "goods", "location", "route_to_us", "workers", "how_known", "when", "details")
_FIELD_CHARS = 20_000
_SESSION_USER = "uid"
_SESSION_RECEIPT = "receipt"


class WebError(Exception):
    """Shown to a person as an HTML page, not as the API's JSON error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequiredError(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = str(context.get("lang") or language(request))
    user = context.get("user")
    if user is None and _SESSION_USER in request.session:
        user = get_user(_state(request).engine, str(request.session[_SESSION_USER]))
    base: dict[str, Any] = {
        "lang": lang,
        "languages": LANGUAGES,
        "t": lambda key, **values: translate(lang, key, **values),
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "user": user,
        "path": request.url.path,
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def install_error_pages(app: FastAPI) -> None:
    async def web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return render(request, "error.html", {"message": exc.message}, status=exc.status)

    async def login_required(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequiredError)
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(LoginRequiredError, login_required)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.triage
    return state


async def posted_form(request: Request) -> AsyncIterator[FormData]:
    """Every POST on the web router passes here: size limit, then the CSRF token, from the form or a header."""
    if request.method != "POST":
        yield FormData()
        return
    settings = _state(request).settings
    declared = request.headers.get("content-length")
    budget = settings.max_upload_bytes * max(1, settings.max_attachments) + 256 * 1024
    if declared and declared.isdigit() and int(declared) > budget:
        raise WebError(413, translate(language(request), "error.too_large"))
    try:
        form = await request.form(max_files=settings.max_attachments, max_fields=40)
    except Exception as exc:  # starlette raises several types for malformed or over-limit multipart bodies
        raise WebError(400, translate(language(request), "error.too_many_files")) from exc
    try:
        submitted = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not csrf_valid(request, submitted if isinstance(submitted, str) else None):
            raise WebError(403, translate(language(request), "error.csrf"))
        yield form
    finally:
        await form.close()


Form = Annotated[FormData, Depends(posted_form)]
router = APIRouter(dependencies=[Depends(posted_form)], include_in_schema=False)


def rate_limited(bucket: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        limits: RateLimits = request.app.state.web_limits
        if not limits.hit(bucket, request):
            raise WebError(429, translate(language(request), "error.rate"))

    return check


def current_user(request: Request) -> User | None:
    uid = request.session.get(_SESSION_USER)
    return get_user(_state(request).engine, str(uid)) if uid else None


def reviewer(request: Request) -> User:
    """The logged-in user, who must hold a reviewing role."""
    user = current_user(request)
    if user is None:
        raise LoginRequiredError(request.url.path)
    if Role(user.role) not in REVIEW_ROLES:
        raise WebError(403, "Your role cannot open the review pages.")
    return user


Reviewer = Annotated[User, Depends(reviewer)]


def _text(form: FormData, name: str, limit: int = _FIELD_CHARS) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _attachments(form: FormData, request: Request) -> list[Attachment]:
    limit = _state(request).settings.max_upload_bytes
    found: list[Attachment] = []
    for upload in form.getlist("attachments"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise WebError(413, translate(language(request), "error.too_large"))
        if data:
            found.append(Attachment(filename=upload.filename[:512], content=data))
    return found


def _intake_form(form: FormData) -> IntakeForm:
    return IntakeForm(**{name: _text(form, name) for name in INTAKE_FIELDS})


# ---------------------------------------------------------------- public intake


@router.get("/", response_class=RedirectResponse)
def home(request: Request) -> RedirectResponse:
    return RedirectResponse("/submit" + (f"?{request.url.query}" if request.url.query else ""), 303)


@router.get("/submit", response_class=HTMLResponse)
def submit_page(request: Request, state: State) -> HTMLResponse:
    settings = state.settings
    return render(
        request,
        "submit.html",
        {
            "fields": INTAKE_FIELDS,
            "values": {},
            "max_files": settings.max_attachments,
            "max_mb": round(settings.max_upload_bytes / 1024 / 1024, 1),
        },
    )


@dataclass(frozen=True)
class Coaching:
    present: list[str]
    missing: list[str]


def coaching(analysis: Analysis, lang: str) -> Coaching:
    """What the submitter has covered and what is still missing, in the submitter's language."""
    present: list[str] = []
    entities = analysis.entities
    for key, mentions in (
        ("present.producer", [p.text for p in entities.producers]),
        ("present.goods", [c.text for c in entities.commodities]),
        ("present.location", [loc.text for loc in entities.locations]),
    ):
        if mentions:
            present.append(translate(lang, key, value=", ".join(dict.fromkeys(mentions))))
    shown = [indicator_name(lang, i.id) for i in analysis.indicators if i.present]
    if shown:
        present.append(translate(lang, "present.workers", value=", ".join(shown)))
    if analysis.us_nexus.present:
        present.append(translate(lang, "present.us_nexus"))
    if any(e.status in ("first_hand", "reported") for i in analysis.indicators for e in i.evidence):
        present.append(translate(lang, "present.how_known"))
    return Coaching(present, [translate_missing(lang, m) for m in analysis.assessment.missing])


@router.post("/submit/coach", response_class=HTMLResponse, dependencies=[Depends(rate_limited("coach"))])
async def coach(request: Request, form: Form, state: State) -> HTMLResponse:
    lang = _text(form, "lang", 8) or language(request)
    lang = lang if lang in LANGUAGES else "en"
    text = _intake_form(form).compose()
    if not text:
        return render(request, "_coach.html", {"lang": lang, "coaching": None, "empty": True})
    pipeline = state.pipeline
    if pipeline is None:
        return render(request, "_coach.html", {"lang": lang, "coaching": None, "empty": False})
    analysis = await run_in_threadpool(pipeline.analyze, "coaching", text, None)
    return render(
        request, "_coach.html", {"lang": lang, "coaching": coaching(analysis, lang), "empty": False}
    )


@router.post("/submit", response_class=HTMLResponse, dependencies=[Depends(rate_limited("submit"))])
async def submit(request: Request, form: Form, state: State) -> HTMLResponse:
    lang = _text(form, "lang", 8)
    lang = lang if lang in LANGUAGES else language(request)
    intake = _intake_form(form)
    files = await _attachments(form, request)
    named = _text(form, "identity", 16) == "named"
    if not intake.compose() and not files:
        settings = state.settings
        return render(
            request,
            "submit.html",
            {
                "lang": lang,
                "fields": INTAKE_FIELDS,
                "values": {name: getattr(intake, name) for name in INTAKE_FIELDS},
                "error": translate(lang, "error.empty"),
                "max_files": settings.max_attachments,
                "max_mb": round(settings.max_upload_bytes / 1024 / 1024, 1),
            },
            status=422,
        )
    result = await run_in_threadpool(
        submit_intake,
        state.engine,
        intake,
        files,
        lang,
        _text(form, "name", 256) or None if named else None,
        _text(form, "contact", 512) or None if named else None,
    )
    if state.dispatcher is not None:
        state.dispatcher.submitted(result.document_ids)
    return render(
        request,
        "receipt.html",
        {"lang": lang, "code": result.receipt_code, "count": len(result.document_ids)},
    )


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, state: State) -> HTMLResponse:
    digest = request.session.get(_SESSION_RECEIPT)
    documents = receipt_documents(state.engine, str(digest)) if digest else []
    advice: dict[str, list[str]] = {}
    lang = language(request)
    for item in documents:
        if item.document.status == DocumentStatus.DONE.value:
            record = latest_analysis(state.engine, item.document.id)
            if record is not None:
                advice[item.document.id] = coaching(analysis_of(record), lang).missing
    return render(
        request,
        "status.html",
        {
            "documents": documents,
            "advice": advice,
            "added": request.query_params.get("added") == "1",
            "max_files": state.settings.max_attachments,
        },
    )


@router.post("/status", response_model=None, dependencies=[Depends(rate_limited("lookup"))])
def status_lookup(request: Request, form: Form, state: State) -> Response:
    digest = receipt_hash(_text(form, "code", 64))
    if not receipt_documents(state.engine, digest):
        lang = language(request)
        return render(
            request,
            "status.html",
            {"documents": [], "advice": {}, "error": translate(lang, "status.unknown"), "max_files": 0},
            status=404,
        )
    request.session[_SESSION_RECEIPT] = digest
    return RedirectResponse(f"/status?lang={language(request)}", status_code=303)


@router.post(
    "/status/evidence", response_class=RedirectResponse, dependencies=[Depends(rate_limited("submit"))]
)
async def status_add(request: Request, form: Form, state: State) -> RedirectResponse:
    digest = request.session.get(_SESSION_RECEIPT)
    lang = language(request)
    if not isinstance(digest, str):
        raise WebError(403, translate(lang, "status.unknown"))
    files = await _attachments(form, request)
    try:
        added = await run_in_threadpool(add_evidence, state.engine, digest, _text(form, "text"), files, lang)
    except ValueError as exc:
        raise WebError(422, translate(lang, "error.empty")) from exc
    except LookupError as exc:
        raise WebError(403, translate(lang, "status.unknown")) from exc
    if state.dispatcher is not None:
        state.dispatcher.submitted(added)
    return RedirectResponse(f"/status?added=1&lang={lang}", status_code=303)


# ---------------------------------------------------------------- login


def _safe_next(target: str) -> str:
    """Only same-site paths, so the login page cannot be used to send someone elsewhere."""
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/review"
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(request.query_params.get("next", "/review"))})


@router.post("/login", response_model=None, dependencies=[Depends(rate_limited("login"))])
def login(request: Request, form: Form, state: State) -> Response:
    user = authenticate(state.engine, _text(form, "name", 128), _text(form, "password", 1024))
    target = _safe_next(_text(form, "next", 512) or "/review")
    if user is None:
        return render(request, "login.html", {"next": target, "error": "Wrong name or password."}, status=401)
    request.session.clear()  # a fresh session (and CSRF token) at each login
    request.session[_SESSION_USER] = user.id
    return RedirectResponse(target, status_code=303)


@router.post("/logout", response_class=RedirectResponse)
def logout(request: Request, form: Form) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------- investigators


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, user: Reviewer, state: State) -> HTMLResponse:
    params = request.query_params
    tier = params.get("tier") or None
    indicator = params.get("indicator") or None
    source_type = params.get("source_type") or None
    country = (params.get("country") or "").strip().upper()[:2] or None
    order = "uncertain" if params.get("order") == "uncertain" else "priority"
    include_decided = params.get("include_decided") in ("1", "true", "on")
    if tier not in (None, *TIERS) or indicator not in (None, *INDICATOR_IDS):
        raise WebError(422, "Unknown tier or indicator.")
    if source_type not in (None, *(s.value for s in SourceType)):
        raise WebError(422, "Unknown source type.")
    filters = QueueFilter(
        tier=tier,
        indicator=indicator,
        commodity=(params.get("commodity") or "").strip()[:128] or None,
        country=country,
        source_type=source_type,
        include_decided=include_decided,
    )
    rows = queue(state.engine, filters, order, limit=100, offset=0)
    items: list[tuple[Document, Decision | None]] = []
    for row in rows:
        decided = decisions_for(state.engine, row.id)
        items.append((row, decided[-1] if decided else None))
    return render(
        request,
        "queue.html",
        {
            "user": user,
            "items": items,
            "filters": filters,
            "order": order,
            "tiers": TIERS,
            "indicators": [(i, indicator_name("en", i)) for i in INDICATOR_IDS],
            "source_types": [s.value for s in SourceType],
            "decided": params.get("decided"),
        },
    )


def _document_context(state: AppState, document_id: str) -> dict[str, Any]:
    try:
        document = get_document(state.engine, document_id)
    except NotFoundError as exc:
        raise WebError(404, "No such document.") from exc
    record = latest_analysis(state.engine, document_id)
    analysis = analysis_of(record) if record else None
    names = {i: indicator_name("en", i) for i in INDICATOR_IDS}
    text = document.text or ""
    marked = highlight(text, spans_of(analysis, names)) if analysis else highlight(text, [])
    return {
        "document": document,
        "analysis": analysis,
        "marked": marked,
        "names": names,
        "colour": {i: f"ind-{n}" for n, i in enumerate(INDICATOR_IDS)},
        "present_statuses": PRESENT_STATUSES,
        "decisions": decisions_for(state.engine, document_id),
        "tiers": TIERS,
        "indicator_ids": INDICATOR_IDS,
        "present_ids": {i.id for i in analysis.indicators if i.present} if analysis else set(),
        "case_id": case_of_document(state.engine, document_id),
    }


@router.get("/review/documents/{document_id}", response_class=HTMLResponse)
def document_page(document_id: str, request: Request, user: Reviewer, state: State) -> HTMLResponse:
    context = _document_context(state, document_id)
    context["claimed"] = request.query_params.get("claimed") == "1"
    return render(request, "document.html", {"user": user, **context})


@router.post("/review/documents/{document_id}/claim", response_class=RedirectResponse)
def claim_page(
    document_id: str, request: Request, form: Form, user: Reviewer, state: State
) -> RedirectResponse:
    try:
        claim(state.engine, document_id, user.name)
    except NotFoundError as exc:
        raise WebError(404, "No such document.") from exc
    except (ClaimConflictError, InvalidStateError) as exc:
        raise WebError(409, str(exc)) from exc
    return RedirectResponse(f"/review/documents/{document_id}?claimed=1", status_code=303)


@router.post("/review/documents/{document_id}/decision", response_class=RedirectResponse)
def decision_page(
    document_id: str, request: Request, form: Form, user: Reviewer, state: State
) -> RedirectResponse:
    action = _text(form, "action", 16)
    comment = _text(form, "comment", 10_000) or None
    tier: str | None = None
    indicators: list[str] | None = None
    if action == "correct":
        tier = _text(form, "tier", 16) or None
        if tier is not None and tier not in TIERS:
            raise WebError(422, "Unknown tier.")
        chosen = [str(v) for v in form.getlist("indicators") if isinstance(v, str)]
        if sorted(set(chosen) - set(INDICATOR_IDS)):
            raise WebError(422, "Unknown indicator.")
        indicators = chosen
    try:
        decide(state.engine, document_id, user.name, action, tier, indicators, None, comment)
    except NotFoundError as exc:
        raise WebError(404, "No such document.") from exc
    except (ClaimConflictError, InvalidStateError) as exc:
        raise WebError(409, str(exc)) from exc
    return RedirectResponse(f"/review?include_decided=1&decided={document_id}", status_code=303)


@router.get("/review/cases", response_class=HTMLResponse)
def cases_page(request: Request, user: Reviewer, state: State) -> HTMLResponse:
    return render(request, "cases.html", {"user": user, "cases": list_cases(state.engine, 200, 0)})


@router.get("/review/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, user: Reviewer, state: State) -> HTMLResponse:
    try:
        case = case_detail(state.engine, case_id, state.settings.near_duplicate_similarity)
    except NotFoundError as exc:
        raise WebError(404, "No such case.") from exc
    stories = sorted({s.story for s in case.sources}, key=[s.story for s in case.sources].index)
    others = [c for c in list_cases(state.engine, 200, 0) if c.id != case_id]
    return render(
        request,
        "case.html",
        {
            "user": user,
            "case": case,
            "others": others,
            "story_names": {story: chr(ord("A") + n % 26) for n, story in enumerate(stories)},
            "indicator_names": {i: indicator_name("en", i) for i in INDICATOR_IDS},
        },
    )


@router.post("/review/cases/{case_id}/merge", response_class=RedirectResponse)
def case_merge_page(case_id: str, form: Form, user: Reviewer, state: State) -> RedirectResponse:
    other = _text(form, "case_id", 32)
    try:
        merge_cases(state.engine, case_id, [other], user.name)
    except NotFoundError as exc:
        raise WebError(404, "No such case.") from exc
    except InvalidStateError as exc:
        raise WebError(409, str(exc)) from exc
    return RedirectResponse(f"/review/cases/{case_id}", status_code=303)


@router.post("/review/cases/{case_id}/split", response_class=RedirectResponse)
def case_split_page(case_id: str, form: Form, user: Reviewer, state: State) -> RedirectResponse:
    chosen = [str(v)[:32] for v in form.getlist("document_ids") if isinstance(v, str)]
    if not chosen:
        raise WebError(422, "Check the documents to move into a new case.")
    try:
        new_case = split_case(state.engine, case_id, chosen, user.name)
    except NotFoundError as exc:
        raise WebError(404, "No such case.") from exc
    except InvalidStateError as exc:
        raise WebError(409, str(exc)) from exc
    return RedirectResponse(f"/review/cases/{new_case}", status_code=303)


def _eval_runs(path: Path) -> dict[str, dict[str, Any]] | None:
    """`triage eval --json` writes one run as {pipeline, gold, metrics...}, several as {name: metrics}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if "pipeline" in data:
        return {f"{Path(str(data.get('gold', '?'))).name} · {data['pipeline']}": data}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


@router.get("/review/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, user: Reviewer, state: State) -> HTMLResponse:
    path = state.settings.eval_results_path
    runs = _eval_runs(path)
    keys = [*HEADLINE, "wro_bar_ece"]
    plots = {
        index: name
        for index, (name, scores) in enumerate((runs or {}).items())
        if str(scores.get("reliability_plot", "")).endswith(".png")
        and Path(str(scores["reliability_plot"])).is_file()
    }
    return render(
        request,
        "metrics.html",
        {
            "user": user,
            "results_path": path,
            "runs": runs,
            "keys": keys,
            "plots": plots,
            "agreement": agreement(state.engine),
        },
    )


@router.get("/review/metrics/plot/{index}.png", response_class=FileResponse)
def metrics_plot(index: int, user: Reviewer, state: State) -> FileResponse:
    runs = list((_eval_runs(state.settings.eval_results_path) or {}).values())
    if not 0 <= index < len(runs):
        raise WebError(404, "No such plot.")
    plot = Path(str(runs[index].get("reliability_plot", "")))
    if plot.suffix != ".png" or not plot.is_file():
        raise WebError(404, "No such plot.")
    return FileResponse(plot, media_type="image/png")
