"""Fetch micropython-umqtt.simple from the package index and install umqtt/simple.py into
firmware/lib, after checking the archive's sha256. (The sdist has no setup.py, so pip
cannot install it.) Usage: python -m host_tools.fetch_umqtt"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import urllib.request

from host_tools.paths import FIRMWARE

NAME = "micropython-umqtt-simple"
VERSION = "1.3.4"
SHA256 = "b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f"
DEST = FIRMWARE / "lib" / "umqtt" / "simple.py"


def index_url() -> str:
    """The index pip itself uses: $PIP_INDEX_URL, pip's configured index-url, pip's default."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        r = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                           capture_output=True, text=True)
        url = r.stdout.strip() if r.returncode == 0 else ""
    if not url:
        from pip._internal.models.index import PyPI

        url = PyPI.simple_url
    return url.rstrip("/")


def fetch() -> bytes:
    page_url = f"{index_url()}/{NAME}/"
    with urllib.request.urlopen(page_url, timeout=60) as r:
        page = r.read().decode()
    want = f"-{VERSION}.tar.gz"
    for href in re.findall(r'href="([^"]+)"', page):
        url = href.split("#", 1)[0]
        if url.endswith(want):
            url = urllib.request.urljoin(page_url, url)
            with urllib.request.urlopen(url, timeout=120) as r:
                return r.read()
    raise SystemExit(f"fetch_umqtt: {NAME} {VERSION} not listed at {page_url}")


def main(argv=None) -> int:
    import argparse

    argparse.ArgumentParser(prog="python -m host_tools.fetch_umqtt",
                            description=__doc__.split("Usage:")[0].strip()).parse_args(argv)
    data = fetch()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"fetch_umqtt: sha256 mismatch: got {digest}, expected {SHA256}", file=sys.stderr)
        return 1
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("umqtt/simple.py"))
        src = tar.extractfile(member).read()
    DEST.parent.mkdir(parents=True, exist_ok=True)
    (DEST.parent / "__init__.py").write_text("")
    DEST.write_bytes(src)
    print(f"fetch_umqtt: {NAME} {VERSION} (sha256 ok) -> {DEST.relative_to(FIRMWARE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
