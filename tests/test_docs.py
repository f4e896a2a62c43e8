"""The documentation builds without warnings and every example script runs."""

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import sklearn_dpgmm

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "doc"
EXAMPLES = ROOT / "examples"
EXAMPLE_SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
# Build products of sphinx-gallery inside the source tree, never copied.
GENERATED = ("auto_examples", "sg_execution_times.rst", "_build")


def subprocess_env():
    """Environment that imports this package and plots without a display."""
    env = dict(os.environ, MPLBACKEND="Agg")
    package_root = str(Path(sklearn_dpgmm.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p
    )
    # Many small linear-algebra calls: BLAS threads only add overhead here.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_documentation_builds_without_warnings(tmp_path):
    for module in ("sphinx", "myst_parser", "numpydoc", "sphinx_gallery"):
        pytest.importorskip(
            module, reason=f"{module} is not installed (pip install -e '.[docs]')"
        )
    pytest.importorskip("matplotlib", reason="the gallery needs matplotlib")
    # Build from a copy so that nothing is written into the source tree.
    source = tmp_path / "src"
    shutil.copytree(DOC, source / "doc", ignore=shutil.ignore_patterns(*GENERATED))
    shutil.copytree(EXAMPLES, source / "examples")
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + [str(source / "doc"), str(out)],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index", "install", "user_guide", "api", "auto_examples/index"):
        assert (out / f"{page}.html").is_file(), page
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in (
        "DPGaussianMixture",
        "PrivacyBudget",
        "BudgetExceededError",
        "PrivacyLeakWarning",
        "save_release",
        "load_release",
        "sklearn_dpgmm.accounting",
        "sklearn_dpgmm.kl",
    ):
        assert name in api, name
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in ("mechanism", "privacy", "benchmarks"):
        exists = any((DOC / f"{page}{suffix}").exists() for suffix in (".md", ".rst"))
        assert (f'href="{page}.html"' in index) == exists, page
    for script in EXAMPLE_SCRIPTS:
        assert (out / "auto_examples" / f"{script.stem}.html").is_file(), script.name


def test_optional_pages_are_dropped_from_the_toctree_until_they_exist(tmp_path):
    conf = runpy.run_path(str(DOC / "conf.py"))
    app = SimpleNamespace(srcdir=str(tmp_path))
    text = "```{toctree}\ninstall\nmechanism\nprivacy\nbenchmarks\napi\n```\n"
    (tmp_path / "privacy.md").write_text("# Privacy\n")

    source = [text]
    conf["_drop_missing_pages"](app, "index", source)
    assert source[0] == "```{toctree}\ninstall\nprivacy\napi\n```\n"

    for page in ("mechanism.md", "benchmarks.rst"):
        (tmp_path / page).write_text("stand-in\n")
    source = [text]
    conf["_drop_missing_pages"](app, "index", source)
    assert source[0] == text
    source = ["mechanism\n"]
    conf["_drop_missing_pages"](app, "user_guide", source)
    assert source == ["mechanism\n"]


@pytest.mark.parametrize("script", EXAMPLE_SCRIPTS, ids=lambda p: p.name)
def test_example_runs_as_a_plain_script(tmp_path, script):
    pytest.importorskip("matplotlib", reason="the examples plot with matplotlib")
    before = outputs_next_to_examples()
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Examples write nothing to the working directory or next to themselves.
    assert list(tmp_path.iterdir()) == []
    assert outputs_next_to_examples() == before


def outputs_next_to_examples():
    """Files in examples/ other than sources (scripts, gallery header)."""
    sources = {".py", ".rst", ".txt"}
    return sorted(
        p.name
        for p in EXAMPLES.iterdir()
        if p.suffix not in sources and p.name != "__pycache__"
    )


@pytest.mark.parametrize("script", EXAMPLE_SCRIPTS, ids=lambda p: p.name)
def test_example_has_a_gallery_title(script):
    text = script.read_text(encoding="utf-8")
    assert text.startswith('"""\n'), "the docstring opens the file"
    over, title, under = text.splitlines()[1:4]
    assert set(over) == {"="} and over == under and len(over) == len(title)
