"""Static files with DEBUG=false: content-hashed names, served compressed, cached for a year."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.http import FileResponse
from django.templatetags.static import static
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
YEAR = "max-age=315360000"


def _body(response: FileResponse) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()  # the file WhiteNoise opened


def test_the_production_storage_is_the_compressed_manifest_one() -> None:
    from environment import settings as project_settings

    assert project_settings.STORAGES["staticfiles"] == PRODUCTION_STORAGES["staticfiles"]


def test_hashed_static_files_are_served_compressed_with_a_long_lifetime(tmp_path: Path) -> None:
    root = tmp_path / "static"
    with override_settings(
        DEBUG=False,
        STATIC_ROOT=root,
        STORAGES=PRODUCTION_STORAGES,
        # Our own files and the web fonts css/fonts.css points at (Phaser's dist is large
        # and makes no difference here).
        STATICFILES_DIRS=[
            d for d in settings.STATICFILES_DIRS if not (isinstance(d, tuple) and d[0] == "vendor/phaser")
        ],
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("css/site.css")
        assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url), url
        client = Client()  # a new handler: WhiteNoise reads the overridden settings
        assert url in client.get("/").content.decode()  # pages link the hashed name

        zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert zipped.status_code == 200
        assert zipped["Content-Encoding"] == "gzip"
        assert YEAR in zipped["Cache-Control"] and "immutable" in zipped["Cache-Control"]
        original = (Path(settings.BASE_DIR) / "static_dirs" / "css" / "site.css").read_bytes()
        assert gzip.decompress(_body(zipped)) == original

        if importlib.util.find_spec("brotli") is not None:
            brotli = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert brotli["Content-Encoding"] == "br" and YEAR in brotli["Cache-Control"]
            _body(brotli)

        plain = client.get(url)  # a client that accepts no encoding gets the file as it is
        assert "Content-Encoding" not in plain and _body(plain) == original
        # The unhashed name still answers, but briefly cached: it changes with the file.
        unhashed = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
        assert unhashed.status_code == 200 and YEAR not in unhashed["Cache-Control"]
        _body(unhashed)
