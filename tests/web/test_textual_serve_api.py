"""Canary for what `wuwb serve` relies on in textual-serve and Textual beyond their documented
API. textual-serve is pinned exactly; when an upgrade breaks one of these, this fails first."""

from __future__ import annotations

import inspect
from importlib import metadata, resources
from pathlib import Path

import pytest
from textual.drivers._input_reader import InputReader
from textual.drivers.web_driver import WebDriver
from textual_serve.server import Server

from workbench.serve import make_server


def test_textual_serve_is_the_pinned_version() -> None:
    requirement = next(
        r for r in metadata.requires("wu-workbench") or [] if r.startswith("textual-serve")
    )
    installed = metadata.version("textual-serve")
    assert requirement.split(";")[0].strip() == f"textual-serve=={installed}"


async def test_make_app_builds_the_routes_we_extend(tmp_path: Path) -> None:
    """Server._make_app (private) is async, returns an aiohttp Application whose router holds
    index, websocket and download routes bound to the overridable handlers."""
    assert inspect.iscoroutinefunction(Server._make_app)
    project = tmp_path / "p.db"
    project.touch()
    server = make_server(project, port=8123, token="t" * 20)
    app = await server._make_app()
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert {"/", "/ws", "/download/{key}", "/static", "/wuwb/player.js", "/ws/as/{annotator}"} <= (
        routes
    )
    assert server.check_token in app.middlewares
    # Each session's process is started from `self.command`, read when the websocket opens.
    source = inspect.getsource(Server.handle_websocket)
    assert "AppService(\n                self.command," in source
    assert server.templates_path == Path(str(resources.files("workbench.web")))


def test_textual_js_hands_open_url_and_deliveries_to_window_open() -> None:
    """player.js takes over window.open: textual.js must still call it for both."""
    static = Path(inspect.getfile(Server)).parent / "static" / "js" / "textual.js"
    script = static.read_text(encoding="utf-8")
    assert 'case"open_url":' in script and 'case"deliver_file_start":' in script
    assert script.count("window.open(") >= 2


def test_web_driver_attributes_we_adjust() -> None:
    """web_driver.adjust_web_driver wraps WebDriver._write (set in its __init__) and shortens
    its input reader's select timeout, which bounds when a lone escape becomes a key."""
    init = inspect.getsource(WebDriver.__init__)
    assert "self._write = partial(os.write" in init and "self._input_reader = InputReader()" in init
    reader = inspect.getsource(InputReader)
    assert "self.timeout = timeout" in reader and "select(self.timeout)" in reader
    for method in (WebDriver.write, WebDriver.write_meta, WebDriver.write_binary_encoded):
        assert "self._write(" in inspect.getsource(method)


@pytest.mark.parametrize("name", ["app_index.html", "player.js"])
def test_page_files_ship_with_the_package(name: str) -> None:
    assert resources.files("workbench.web").joinpath(name).is_file()
