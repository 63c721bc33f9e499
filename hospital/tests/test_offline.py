"""The admin and the API docs load nothing from another host, through production's static storage.

Issue 9: Jazzmin's Google Fonts link is off and its theme @imports no font; Swagger UI comes from
drf-spectacular-sidecar, never a CDN; and the manifest storage resolves Jazzmin's one folder
reference while staying strict for every other name. The smoke suite sees the same in Chromium;
these run without a browser, in every pass of the suite.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from hospital.storage import StaticFilesStorage

pytestmark = pytest.mark.django_db

# <script src>, <link href> and <img src>: what a browser fetches while it renders the page.
ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)
# An @import or url() in a stylesheet that names another host.
REMOTE_IN_CSS = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*["']?(?:https?:)?//""", re.IGNORECASE)
THIRD_PARTIES = ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com", "cdn.redoc.ly")


def test_the_storage_resolves_jazzmins_folder_and_stays_strict_for_every_other_name():
    storage = StaticFilesStorage()

    assert storage.url("vendor/bootswatch") == f"{settings.STATIC_URL}vendor/bootswatch"
    assert re.fullmatch(rf"{settings.STATIC_URL}admin/css/base\.[0-9a-f]{{12}}\.css", storage.url("admin/css/base.css"))
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry for 'vendor/bootswatch/none.css'"):
        storage.url("vendor/bootswatch/none.css")


def collected(url: str) -> Path:
    path = Path(settings.STATIC_ROOT) / url.removeprefix(settings.STATIC_URL).split("?")[0]
    assert path.is_file(), f"{url} is not among the collected static files"
    return path


@pytest.mark.parametrize(
    ("path", "as_administrator"),
    [
        ("/admin/login/", False),
        ("/admin/", True),
        ("/admin/staff/user/add/", True),
        ("/api/docs/", False),
        ("/api/redoc/", False),
    ],
)
def test_the_page_and_its_stylesheets_name_no_other_host(staff_client, path, as_administrator):
    response = (staff_client if as_administrator else Client()).get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert not [asset for asset in assets if not asset.startswith("/") or asset.startswith("//")]
    assert not [name for name in THIRD_PARTIES if name in html]
    assert any(asset.startswith(settings.STATIC_URL) for asset in assets), "no static asset found: the regex is off"
    for asset in assets:
        if asset.startswith(settings.STATIC_URL) and asset.split("?")[0].endswith(".css"):
            css = collected(asset).read_text(errors="replace")
            assert not REMOTE_IN_CSS.search(css), f"{asset} loads from another host"
            assert not [name for name in THIRD_PARTIES if name in css], asset


def test_redoc_keeps_images_on_our_host():
    response = Client().get("/api/redoc/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "img-src 'self' data:"
    assert "drf_spectacular_sidecar/redoc/bundles/redoc.standalone" in response.content.decode()
