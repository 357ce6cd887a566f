"""Developer tool: fetch the maps' and pages' front-end files from the npm registry.

``python -m maps.vendor`` (``make vendor``) runs ``npm pack NAME@VERSION`` for each
package of :data:`PACKAGES`, checks the tarball against the registry's ``integrity``
(SHA-512), copies the listed files into ``maps/static/vendor/NAME@VERSION/`` (the
package's own relative layout, so CSS ``url(../webfonts/…)`` references resolve)
and writes ``maps/static/vendor/manifest.json``: per package its version, licence,
tarball integrity and the SHA-256 of every file. The files are committed: a user's
machine never downloads anything (government intranets are offline); the test suite
checks the files against the manifest. Run it only to change a version.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"


@dataclass(frozen=True)
class Package:
    """An npm package and the files of it that the product serves."""

    name: str
    version: str
    licence: str
    files: tuple[str, ...]  # paths inside the package (glob patterns allowed)


PACKAGES: tuple[Package, ...] = (
    Package(
        "leaflet",
        "1.9.3",
        "BSD-2-Clause",
        ("dist/leaflet.js", "dist/leaflet.css", "dist/images/*.png", "LICENSE"),
    ),
    Package("jquery", "3.7.1", "MIT", ("dist/jquery.min.js", "LICENSE.txt")),
    Package(
        "bootstrap",
        "5.2.2",
        "MIT",
        ("dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css", "LICENSE"),
    ),
    Package(
        "leaflet.awesome-markers",
        "2.0.5",
        "MIT",
        (
            "dist/leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css",
            "dist/images/*.png",
            "LICENSE",
        ),
    ),
    Package(
        "@fortawesome/fontawesome-free",
        "6.2.0",
        "CC-BY-4.0 (icons), OFL-1.1 (fonts), MIT (code)",
        ("css/all.min.css", "webfonts/*.woff2", "webfonts/*.ttf", "LICENSE.txt"),
    ),
    Package("d3", "3.5.5", "BSD-3-Clause", ("d3.min.js", "LICENSE")),
    Package("htmx.org", "2.0.11", "0BSD", ("dist/htmx.min.js", "LICENSE")),
)


def folder(name: str, version: str) -> str:
    """The folder of a package under ``static/vendor`` (``NAME@VERSION``)."""
    return f"{name}@{version}"


def _pack(pkg: Package, work: Path) -> tuple[Path, str]:
    out = subprocess.run(
        ["npm", "pack", f"{pkg.name}@{pkg.version}", "--json"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    tarball = work / info["filename"]
    algo, _, digest = info["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
    if actual != digest:
        raise SystemExit(f"{pkg.name}@{pkg.version}: tarball does not match {info['integrity']}")
    return tarball, info["integrity"]


def _extract(pkg: Package, tarball: Path, dest: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    with tarfile.open(tarball) as tar:
        members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}
        for pattern in pkg.files:
            matched = sorted(
                n for n in members if Path(n).match(pattern) and n.count("/") == pattern.count("/")
            )
            if not matched:
                raise SystemExit(f"{pkg.name}@{pkg.version}: no file matches {pattern}")
            for name in matched:
                data = tar.extractfile(members[name])
                assert data is not None
                blob = data.read()
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blob)
                files[name] = hashlib.sha256(blob).hexdigest()
    return files


def main() -> int:
    manifest: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            tarball, integrity = _pack(pkg, Path(tmp))
            dest = VENDOR_DIR / folder(pkg.name, pkg.version)
            shutil.rmtree(dest, ignore_errors=True)
            files = _extract(pkg, tarball, dest)
            manifest[pkg.name] = {
                "version": pkg.version,
                "folder": folder(pkg.name, pkg.version),
                "licence": pkg.licence,
                "source": f"npm registry: {pkg.name}@{pkg.version}",
                "integrity": integrity,
                "files": files,
            }
            print(f"{pkg.name}@{pkg.version}: {len(files)} files", file=sys.stderr)
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
