"""Server-rendered pages: the public intake with live coaching, receipts, and the investigators' pages.

They run in the API's process and call the same domain functions (service.documents, service.review,
service.intake, service.auth); `install_web` adds them to the app that service.api.app.create_app builds.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from service.auth import session_secret
from service.config import Settings
from service.web.routes import STATIC_DIR, install_error_pages, router
from service.web.safety import RateLimits


def install_web(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="triage_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.session_https_only,
    )
    app.state.web_limits = RateLimits(
        {
            "submit": settings.submit_rate_limit,
            "lookup": settings.submit_rate_limit,
            "login": settings.submit_rate_limit,
            "coach": settings.coach_rate_limit,
        }
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)
    app.include_router(router)
