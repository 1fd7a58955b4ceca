"""`wuwb serve`: the review screen in a browser, each session its own `wuwb review` process.

Built on textual-serve (pinned exactly in pyproject.toml: `_make_app` is private, and
tests/web/test_textual_serve_api.py is the canary for what this module relies on). Our page
template (workbench/web/app_index.html) adds player.js, which plays the clips in the browser.

Access: the server binds 127.0.0.1 unless told otherwise, and every request must carry the
token printed at start, in the URL (`?token=`) or in the cookie the page sets from it. The
annotator's name comes from the URL (`?annotator=NAME`) or, without it, from a prompt in the
app; never from the server's login.
"""

from __future__ import annotations

import argparse
import hmac
import os
import secrets
import shlex
import sys
import unicodedata
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

MAX_NAME = 64
# The annotator of the browser session whose websocket is being handled (one asyncio task
# per session, so each sees its own).
_session_annotator: ContextVar[str | None] = ContextVar("wuwb_session_annotator", default=None)


def clean_annotator(name: str) -> str:
    """The name as given, if it is one a person would type; else ValueError."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"an annotator name has 1 to {MAX_NAME} characters")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ValueError("an annotator name has no control characters")
    return name


def _font_size(text: str) -> int:
    """The page's `fontsize` parameter, as pixels from 8 to 48 (16 when absent or not a number)."""
    return min(max(int(text), 8), 48) if text.isdigit() else 16


def web_dir() -> Path:
    return Path(str(resources.files("workbench.web")))


def make_server(
    project: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    annotator_from_login: bool = False,
) -> Any:  # -> WorkbenchServer; textual_serve is imported only when serving
    import aiohttp_jinja2
    from aiohttp import web
    from textual_serve.server import Server

    class WorkbenchServer(Server):
        def __init__(self) -> None:
            self.token = token or secrets.token_urlsafe(24)
            self.annotator_from_login = annotator_from_login
            self.cookie = f"wuwb_token_{port}"  # cookies ignore the port: one name per server
            review = [sys.executable, "-m", "workbench.cli", "review", str(project.resolve())]
            super().__init__(
                shlex.join(review),
                host=host,
                port=port,
                title=f"wuwb review {project.name}",
                templates_path=web_dir(),  # absolute: textual-serve joins it to its own folder
            )

        # Server.__init__ stores the command; each session's AppService reads it back.
        @property
        def command(self) -> str:
            annotator = _session_annotator.get()
            if annotator is None:
                return self._command
            return f"{self._command} --annotator {shlex.quote(annotator)}"

        @command.setter
        def command(self, value: str) -> None:
            self._command = value

        def url(self) -> str:
            return f"http://{self.host}:{self.port}/?{urlencode({'token': self.token})}"

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.check_token)
            app.router.add_get("/wuwb/player.js", self.handle_player)
            app.router.add_get("/ws/as/{annotator}", self.handle_session)
            return app

        @web.middleware
        async def check_token(self, request: web.Request, handler: Any) -> web.StreamResponse:
            given = request.query.get("token") or request.cookies.get(self.cookie) or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise web.HTTPForbidden(
                    text="wuwb serve: open the address printed at start (it carries ?token=)\n"
                )
            response: web.StreamResponse = await handler(request)
            return response

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            path = "/ws"
            name = None if self.annotator_from_login else request.query.get("annotator")
            if name is not None:
                try:
                    path = f"/ws/as/{quote(clean_annotator(name), safe='')}"
                except ValueError as error:
                    raise web.HTTPBadRequest(text=f"wuwb serve: {error}\n") from error
            scheme = "wss" if request.secure else "ws"
            context = {
                "title": self.title,
                "static_url": "/static/",
                "player_url": "/wuwb/player.js",
                # From the request's own host, so any local port of an ssh tunnel works.
                "websocket_url": f"{scheme}://{request.host}{path}",
                "font_size": _font_size(request.query.get("fontsize", "")),
            }
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict")
            return response

        async def handle_player(self, _request: web.Request) -> web.FileResponse:
            return web.FileResponse(web_dir() / "player.js")

        async def handle_session(self, request: web.Request) -> web.StreamResponse:
            if self.annotator_from_login:
                raise web.HTTPForbidden(text="wuwb serve: names come from the login prompt\n")
            try:
                name = clean_annotator(request.match_info["annotator"])
            except ValueError as error:
                raise web.HTTPBadRequest(text=f"wuwb serve: {error}\n") from error
            token = _session_annotator.set(name)
            try:
                return await self.handle_websocket(request)
            finally:
                _session_annotator.reset(token)

        async def on_startup(self, app: web.Application) -> None:
            say = self.console.print
            say(f"wuwb serve: reviewing {project} at", highlight=False)
            say(self.url(), highlight=False, soft_wrap=True)
            if host in ("127.0.0.1", "localhost", "::1"):
                say(
                    f"From a laptop: ssh -N -L {port}:127.0.0.1:{port} THIS-SERVER, then open "
                    "that address there (add &annotator=YOUR-NAME).",
                    highlight=False,
                )
            else:
                say(
                    f"Warning: listening on {host} in plain HTTP: the token can be read on "
                    "the way. Prefer the default 127.0.0.1 and ssh -L.",
                    highlight=False,
                )
            say("Ctrl+C stops the server and every session.", highlight=False)

    return WorkbenchServer()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the review screen to browsers (audio plays in the browser)",
        description=(
            "Serve the review screen over HTTP: every browser that opens the printed address "
            "gets its own `wuwb review` session, with the clips played by the browser. The "
            "address carries a token; requests without it are refused. Binds 127.0.0.1 by "
            "default: from a laptop, run `ssh -L 8000:127.0.0.1:8000 SERVER` and open the "
            "address there. The annotator's name is the URL's `annotator` parameter "
            "(…&annotator=NAME), else asked for at a prompt."
        ),
    )
    p.add_argument("project", metavar="PROJECT.db", help="an existing project file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--token", default="auto", metavar="auto|VALUE",
        help="the secret every request must carry: auto (default) makes a random one at "
        "start; a VALUE keeps the address the same across restarts",
    )
    p.add_argument(
        "--annotator-from-login", action="store_true",
        help="ignore the URL's annotator parameter: every session starts at a prompt asking "
        "for the annotator's name (for one address shared by several people)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.cli import UserError

    project = Path(args.project)
    if not project.is_file():
        raise UserError(f"{project}: no such project file")
    if args.token != "auto" and len(args.token) < 16:
        raise UserError("--token: use at least 16 characters (or auto)")
    try:
        import textual_serve  # noqa: F401
    except ImportError as error:
        raise UserError(
            "textual-serve is not installed: pip install 'wu-workbench[web]'"
        ) from error
    # Textual waits ESCDELAY (100 ms) after an escape byte for the rest of a key sequence. A
    # browser's terminal sends each key's sequence whole in one message, so the sessions need
    # not wait that long (with web_driver.INPUT_POLL_S, escape reaches the app ~80 ms sooner).
    os.environ.setdefault("ESCDELAY", "20")
    server = make_server(
        project,
        host=args.host,
        port=args.port,
        token=None if args.token == "auto" else args.token,
        annotator_from_login=args.annotator_from_login,
    )
    server.serve()
    return 0
