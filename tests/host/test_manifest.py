"""Each board's manifest names exactly the modules that board runs: the import closure of
boot.py, main.py and the board's composition root, read from the firmware's own import
statements (those inside functions too: a phase's lazy import still runs on the board)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from host_tools.deploy import build, manifest
from host_tools.paths import FIRMWARE, ROOT

# board -> the modules it starts from besides boot.py and main.py: its composition root
# (board.load() picks it) and, on the sim board, the ROM that runs boot.py and main.py
ROOTS = {
    "esp32s3_sim7080": ("board.esp32s3_sim7080",),
    "sim": ("board.sim", "board.simrom"),
}
SEARCH = (FIRMWARE, FIRMWARE / "lib")     # sys.path on the device: firmware, firmware/lib


def _file(module: str) -> Path | None:
    for base in SEARCH:
        for p in (base / (module.replace(".", "/") + ".py"),
                  base / module.replace(".", "/") / "__init__.py"):
            if p.is_file():
                return p
    return None     # built in (machine, json, ...) or not the firmware's


def _imports(path: Path, module: str) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            found.add(base)
            # `from board import sim`: sim may be a submodule
            found.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return found


def closure(board: str) -> set[Path]:
    others = {r for b, roots in ROOTS.items() if b != board for r in roots}
    files: set[Path] = {ROOT / "boot.py", ROOT / "main.py"}
    todo = [(p, "__main__") for p in files] + [(None, r) for r in ROOTS[board]]
    seen: set[str] = set()
    while todo:
        path, module = todo.pop()
        if path is None:
            if module in seen or module in others:
                continue
            seen.add(module)
            path = _file(module)
            if path is None:
                continue
            files.add(path)
            parts = module.split(".")          # importing a.b runs a/__init__.py first
            todo += [(None, ".".join(parts[:i])) for i in range(1, len(parts))]
        todo += [(None, m) for m in _imports(path, module)]
    return files


@pytest.mark.parametrize("board", sorted(ROOTS))
def test_manifest_names_exactly_what_the_board_imports(board):
    m = manifest.read(manifest.board_manifest(board))
    listed = {e.source for e in m.entries}
    runs = {p.resolve() for p in closure(board)} - {ROOT / "boot.py", ROOT / "main.py"}
    missing = sorted(str(p.relative_to(FIRMWARE)) for p in runs - listed)
    extra = sorted(str(p.relative_to(FIRMWARE)) for p in listed - runs)
    assert not missing, f"{board}: imported but not in its manifest: {missing}"
    assert not extra, f"{board}: in its manifest but never imported: {extra}"
    assert all(e.opt == 2 for e in m.entries), "deploys compile with mpy-cross -O2"


def test_every_firmware_module_runs_on_some_board():
    listed = {e.source for b in ROOTS for e in manifest.read(manifest.board_manifest(b)).entries}
    manifests = {manifest.board_manifest(b).name for b in ROOTS} | {"common_manifest.py"}
    orphans = sorted(str(p.relative_to(FIRMWARE)) for p in FIRMWARE.rglob("*.py")
                     if p not in listed and p.name not in manifests)
    assert not orphans, f"on no board's manifest: {orphans}"


def test_the_esp32_board_carries_no_sim_module():
    names = manifest.for_platform("esp32").names()
    assert "board/esp32s3_sim7080.py" in names and "pppnet.py" in names
    assert not [n for n in names if n.startswith("board/sim")]
    assert "umqtt/simple.py" in names
    # a firmware build follows the port's own manifest; the host deploys onto a stock image
    assert manifest.for_platform("esp32").skipped == ["$(PORT_DIR)/boards/manifest.py"]


def test_deploy_copies_the_manifest(tmp_path):
    items = build.build("esp32", compile_mpy=False, out=tmp_path / "out")
    want = {"boot.py", "main.py"} | {
        "firmware/" + e.source.relative_to(FIRMWARE).as_posix()
        for e in manifest.for_platform("esp32").entries}
    assert {i.device_path for i in items} == want
    assert "firmware/lib/umqtt/simple.py" in want


def test_reader_follows_the_manifest_format(tmp_path):
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)
    for f in ("a.py", "b.py", "pkg/__init__.py", "pkg/x.py", "pkg/sub/y.py"):
        (tmp_path / "src" / f).write_text("")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "inc.py").write_text(
        'module("b.py", base_path="../src", opt=options.level)\n')
    (tmp_path / "m" / "manifest.py").write_text(
        'include("$(PORT_DIR)/boards/manifest.py")\n'
        'metadata(version="1.0")\n'
        'module("a.py", base_path="../src")\n'
        'package("pkg", base_path="../src", opt=2)\n'
        'include("inc.py", level=3)\n'
        'freeze("../src", "a.py")\n')
    m = manifest.read(tmp_path / "m" / "manifest.py")
    assert m.names() == ["a.py", "pkg/__init__.py", "pkg/sub/y.py", "pkg/x.py", "b.py"]
    assert [e.opt for e in m.entries] == [None, 2, 2, 2, 3]
    assert m.skipped == ["$(PORT_DIR)/boards/manifest.py"] and m.metadata == {"version": "1.0"}
    (tmp_path / "m" / "bad.py").write_text('module("gone.py")\n')
    with pytest.raises(manifest.ManifestError, match="no such file"):
        manifest.read(tmp_path / "m" / "bad.py")
    (tmp_path / "m" / "req.py").write_text('require("umqtt.simple")\n')
    with pytest.raises(manifest.ManifestError, match="require"):
        manifest.read(tmp_path / "m" / "req.py")
