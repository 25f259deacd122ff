"""The FastAPI application: start-up (database, models, worker) and error mapping.

Models load in a background thread at start-up so /healthz answers at once and /readyz turns ready only when
analyses can really be produced; submissions made meanwhile are stored and queued, not refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import __version__
from service.config import Settings, get_settings
from service.db.engine import make_engine, upgrade_database
from service.errors import InvalidStateError, NotFoundError
from service.nlp.people import PeopleFinder
from service.nlp.pipeline import Pipeline
from service.worker import InProcessWorker, JobDispatcher

log = logging.getLogger(__name__)


@dataclass
class AppState:
    """What the routes need, created once per process."""

    settings: Settings
    engine: Engine
    pipeline: Pipeline | None = None
    people: PeopleFinder | None = None
    dispatcher: JobDispatcher | None = None
    load_error: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def wait_ready(self, timeout: float) -> Pipeline | None:
        self.ready.wait(timeout)
        return self.pipeline


def people_finder(pipeline: Pipeline, settings: Settings) -> PeopleFinder:
    """The pipeline's spaCy model when it knows PERSON (the rules pipeline's does); a trained entity model
    knows only the case's labels, so then the general model is loaded once beside it."""
    if "PERSON" in pipeline.nlp.pipe_labels.get("ner", []):
        return PeopleFinder(pipeline.nlp)
    import spacy

    return PeopleFinder(spacy.load(settings.spacy_model, exclude=["parser", "tagger", "lemmatizer"]))


def _load_models(state: AppState) -> None:
    try:
        state.pipeline = Pipeline.load(state.settings)
        state.people = people_finder(state.pipeline, state.settings)
        if state.settings.worker == "inprocess":
            from service.jobs import JobContext

            worker = InProcessWorker(JobContext.load(state.engine, state.settings, state.pipeline))
            worker.start()
            state.dispatcher = worker
        elif state.settings.worker == "celery":
            from service.celery_app import CeleryDispatcher

            state.dispatcher = CeleryDispatcher(state.settings, state.engine)
    except Exception as exc:  # reported by /readyz; the process stays up to serve stored data
        log.exception("model loading failed")
        state.load_error = f"{exc.__class__.__name__}: {exc}"
    finally:
        state.ready.set()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade_database(settings.database_url)
        state = AppState(settings=settings, engine=make_engine(settings.database_url))
        app.state.triage = state
        loader = threading.Thread(target=_load_models, args=(state,), name="model-loader", daemon=True)
        loader.start()
        try:
            yield
        finally:
            loader.join(timeout=60)
            if state.dispatcher is not None:
                state.dispatcher.stop()
            state.engine.dispose()

    app = FastAPI(
        title="WRO Triage",
        version=__version__,
        description=(
            "Triage of forced-labor evidence under Section 307 of the Tariff Act: entities, ILO indicators with "
            "evidence, US-market nexus and the Withhold Release Order bar."
        ),
        lifespan=lifespan,
    )

    @app.exception_handler(NotFoundError)
    async def _not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"code": "not_found", "message": f"not found: {exc}"})

    @app.exception_handler(InvalidStateError)
    async def _conflict(_request: Request, exc: InvalidStateError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"code": "invalid_state", "message": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            content = exc.detail
        else:
            content = {"code": f"http_{exc.status_code}", "message": str(exc.detail)}
        return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"code": "invalid_request", "message": "the request is invalid", "errors": errors},
        )

    from service.api.admin_routes import router as admin_router
    from service.api.batch_routes import router as batch_router
    from service.api.review_routes import router as review_router
    from service.api.routes import router
    from service.web import install_web

    app.include_router(router)
    app.include_router(review_router)
    app.include_router(batch_router)
    app.include_router(admin_router)
    install_web(app, settings)
    return app
