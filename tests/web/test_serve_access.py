"""`wuwb serve` over plain HTTP: the token guards every route; names from the URL are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import Served

from workbench.cli import main
from workbench.serve import clean_annotator

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def served(demo_project: Path):
    server = Served(demo_project, TOKEN)
    yield server
    server.close()


def test_requests_without_the_token_are_refused(served: Served) -> None:
    for path in ("/", "/ws", "/ws/as/mallory", "/wuwb/player.js", "/static/js/textual.js",
                 "/download/0123"):
        assert served.get(path)[0] == 403, path
    assert served.get("/?token=wrong-token-0123456789abcdef")[0] == 403
    assert served.get("/", {"Cookie": f"wuwb_token_{served.port}=nope"})[0] == 403


def test_the_token_opens_the_page_and_its_cookie_the_rest(served: Served) -> None:
    status, page, headers = served.get(f"/?token={TOKEN}&annotator=%E9%98%BF%E8%8A%B3")
    assert status == 200
    assert f"ws://127.0.0.1:{served.port}/ws/as/%E9%98%BF%E8%8A%B3" in page
    assert '<script src="/wuwb/player.js">' in page
    cookie = headers["Set-Cookie"]
    assert f"wuwb_token_{served.port}={TOKEN}" in cookie and "HttpOnly" in cookie
    jar = {"Cookie": f"wuwb_token_{served.port}={TOKEN}"}
    status, script, _ = served.get("/wuwb/player.js", jar)
    assert status == 200 and "wuwb-audio:" in script
    assert served.get("/static/js/textual.js", jar)[0] == 200
    assert served.get(f"/?token={TOKEN}&annotator=%07bell")[0] == 400
    assert 'data-font-size="20"' in served.get(f"/?token={TOKEN}&fontsize=20")[1]
    assert 'data-font-size="16"' in served.get(f'/?token={TOKEN}&fontsize="><b>')[1]


def test_the_url_printed_at_start_carries_the_token(served: Served) -> None:
    assert f"http://127.0.0.1:{served.port}/?token={TOKEN}" in served.output()
    assert f"ssh -N -L {served.port}:127.0.0.1:{served.port}" in served.output()


def test_annotator_names() -> None:
    assert clean_annotator("  李明 ") == "李明"
    for bad in ("", " ", "x" * 65, "a\nb", "a\x1b[31mb"):
        with pytest.raises(ValueError):
            clean_annotator(bad)


def test_serve_refuses_a_missing_project_and_a_short_token(
    tmp_path: Path, demo_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "nope.db")]) == 2
    assert "no such project file" in capsys.readouterr().err
    assert main(["serve", str(demo_project), "--token", "short"]) == 2
    assert "--token" in capsys.readouterr().err


def test_annotator_from_login_ignores_the_url(demo_project: Path) -> None:
    server = Served(demo_project, TOKEN, "--annotator-from-login")
    try:
        status, page, _ = server.get(f"/?token={TOKEN}&annotator=mallory")
        assert status == 200
        assert f'data-session-websocket-url="ws://127.0.0.1:{server.port}/ws"' in page
        assert server.get(f"/ws/as/mallory?token={TOKEN}")[0] == 403
    finally:
        server.close()
