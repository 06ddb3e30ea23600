"""Board manifests on the host: which modules a board runs, read from its manifest.

A board's manifest (firmware/board/<board>_manifest.py) is in MicroPython's own format, the
one `make FROZEN_MANIFEST=...` freezes (tools/manifestfile.py): a Python file that calls
module(), package(), include() and freeze(), paths relative to the manifest's folder. This
reader runs it the same way, with those functions defined, and returns the files it names;
deploy (build.py), update bundles (ota/bundle.py) and the benchmarks copy or compile
exactly those.

An include() of a path under a MicroPython source tree ($(PORT_DIR), $(MPY_DIR), ...) is
the port's own frozen modules: a firmware build follows it; the host, which deploys onto a
stock image that already holds them, records it in `skipped` and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.paths import FIRMWARE

# sys.platform on the device -> the board whose composition root board.load() picks there
BOARDS = {"esp32": "esp32s3_sim7080", "linux": "sim"}
_PATH_VAR = re.compile(r"\$\((\w+)\)")


class ManifestError(RuntimeError):
    pass


@dataclass(frozen=True)
class Entry:
    name: str            # the module's path as imported (frozen): "drivers/modem.py"
    source: Path         # the file it is compiled from
    opt: int | None      # mpy-cross -O level the manifest asks for (None: the default)


@dataclass
class Manifest:
    path: Path
    entries: list[Entry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # includes of a MicroPython tree
    metadata: dict = field(default_factory=dict)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]


class _Options:
    """`options` inside a manifest: the keyword arguments of the include() that ran it."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __getattr__(self, name):
        return None


def board_manifest(board: str, fw: Path = FIRMWARE) -> Path:
    return Path(fw) / "board" / f"{board}_manifest.py"


def for_platform(platform: str, fw: Path = FIRMWARE) -> Manifest:
    """The manifest of the board a device of `platform` (sys.platform) runs."""
    try:
        board = BOARDS[platform]
    except KeyError:
        raise ManifestError(f"no board for platform {platform!r} "
                            f"(boards: {', '.join(f'{p}: {b}' for p, b in BOARDS.items())})"
                            ) from None
    return read(board_manifest(board, fw))


def read(path: Path, path_vars: dict[str, str] | None = None) -> Manifest:
    """Evaluate the manifest at path (and everything it includes)."""
    path = Path(path).resolve()
    m = Manifest(path)
    _Reader(m, path_vars or {}).execute(path, {})
    return m


class _Reader:
    def __init__(self, m: Manifest, path_vars: dict[str, str]):
        self.m = m
        self.vars = path_vars
        self.dirs: list[Path] = []
        self.by_name: dict[str, Entry] = {}
        self.stack: list[Path] = []

    # paths ------------------------------------------------------------------------------
    def _path(self, p: str) -> Path | None:
        """p relative to the manifest being run; None if it names an unknown tree."""
        unknown = [v for v in _PATH_VAR.findall(p) if v not in self.vars]
        if unknown:
            return None
        p = _PATH_VAR.sub(lambda g: self.vars[g.group(1)], p)
        return (self.dirs[-1] / p).resolve()

    def _need(self, p: str, what: str) -> Path:
        r = self._path(p)
        if r is None:
            raise ManifestError(f"{self.where()}: {what} {p!r}: a MicroPython source tree "
                                "path; only include() may name one")
        return r

    def where(self) -> str:
        return str(self.dirs[-1]) if self.dirs else "?"

    def _add(self, name: str, source: Path, opt: int | None) -> None:
        if not source.is_file():
            raise ManifestError(f"{self.where()}: {name}: no such file {source}")
        if not name.endswith(".py"):
            raise ManifestError(f"{self.where()}: {name}: a module is a .py file")
        old = self.by_name.get(name)
        if old is not None:
            if old.source != source or old.opt != opt:
                raise ManifestError(f"{name} named twice: {old.source} and {source}")
            return
        e = Entry(name, source, opt)
        self.by_name[name] = e
        self.m.entries.append(e)

    # the manifest's functions -----------------------------------------------------------
    def module(self, module_path, base_path=".", opt=None):
        base = self._need(base_path, "base_path")
        self._add(module_path, base / module_path, opt)

    def package(self, package_path, files=None, base_path=".", opt=None):
        base = self._need(base_path, "base_path")
        root = base / package_path
        if files is None:
            if not root.is_dir():
                raise ManifestError(f"{self.where()}: package {package_path!r}: no folder "
                                    f"{root}")
            names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
        else:
            names = list(files)
        for f in names:
            self._add(f"{package_path}/{f}", root / f, opt)

    def freeze(self, path, script=None, opt=None):
        root = self._need(path, "freeze")
        if script is None:
            names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
        elif isinstance(script, str):
            names = [script]
        else:
            names = list(script)
        for f in names:
            self._add(f, root / f, opt)

    def include(self, manifest_path, is_require=False, **kwargs):
        p = self._path(manifest_path)
        if p is None:
            self.m.skipped.append(manifest_path)
            return
        if p.is_dir():
            p = p / "manifest.py"
        self.execute(p, kwargs)

    def require(self, name, library=None, **kwargs):
        raise ManifestError(f"{self.where()}: require({name!r}): this firmware carries its "
                            "libraries as files (package(..., base_path=...)); the host has "
                            "no micropython-lib to take them from")

    def metadata(self, **kwargs):
        if len(self.dirs) == 1:
            self.m.metadata.update(kwargs)

    def execute(self, path: Path, options: dict) -> None:
        if not path.is_file():
            raise ManifestError(f"no manifest {path}")
        if path in self.stack:
            raise ManifestError(f"{path} includes itself")
        self.stack.append(path)
        self.dirs.append(path.parent)
        g = {"module": self.module, "package": self.package, "freeze": self.freeze,
             "include": self.include, "require": self.require, "metadata": self.metadata,
             "options": _Options(**options), "__file__": str(path)}
        try:
            exec(compile(path.read_text(), str(path), "exec"), g)
        finally:
            self.dirs.pop()
            self.stack.pop()
