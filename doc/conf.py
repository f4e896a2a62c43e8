"""Sphinx configuration of the sklearn-dpgmm documentation.

Build with ``python -m sphinx -W -b html doc /tmp/docbuild`` after
``pip install -e .[docs]``. Pages are Markdown (MyST) or reStructuredText; the
gallery is generated from ``examples/plot_*.py`` by sphinx-gallery into
``doc/auto_examples`` (a build product, not tracked). Pass
``-D plot_gallery=0`` to build the gallery pages without running the examples.
"""

import re
from pathlib import Path

import sklearn_dpgmm

# -- Project ------------------------------------------------------------------

project = "sklearn-dpgmm"
author = "the sklearn-dpgmm developers"
copyright = "the sklearn-dpgmm developers"
release = sklearn_dpgmm.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# Pages written separately from the scaffolding. They are listed in the
# toctree of index.md; while one of them does not exist yet its entry is
# dropped (see _drop_missing_pages) so that the build stays warning-free.
OPTIONAL_PAGES = ("mechanism", "privacy", "benchmarks")

# -- MyST ---------------------------------------------------------------------

myst_enable_extensions = ["amsmath", "colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# -- autodoc, autosummary, numpydoc ------------------------------------------

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# The API page uses autosummary tables without stub generation: the entries
# link to the autodoc blocks on the same page and nothing is written into the
# source tree.
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# A docstring's References section may list a work that only another
# docstring cites; numpydoc renames citation labels per docstring, so such an
# entry is reported as unreferenced. That is harmless and not worth failing a
# -W build for.
suppress_warnings = ["ref.citation"]

# -- sphinx-gallery -----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py scripts are run; the quick-start script is shown in the
    # user guide and README rather than in the gallery.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|quickstart)\.py$",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
}

# -- HTML ---------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"sklearn-dpgmm {release}"
html_static_path = []


def _page_exists(srcdir, name):
    return any((Path(srcdir) / f"{name}{suffix}").exists() for suffix in source_suffix)


def _drop_missing_pages(app, docname, source):
    """Remove toctree entries of optional pages that do not exist yet."""
    if docname != root_doc:
        return
    for name in OPTIONAL_PAGES:
        if not _page_exists(app.srcdir, name):
            source[0] = re.sub(rf"(?m)^{name}\s*$\n?", "", source[0])


# A fitted attribute named in a shape, as in "ndarray of shape
# (n_features_in_,)", ends with an underscore, which reStructuredText reads as
# a hyperlink reference. Quote such names as literals.
_SHAPE_ATTRIBUTE = re.compile(r"(?<=[(, ])([A-Za-z]\w*_)(?=[,)])")


def _quote_shape_attributes(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if " of shape (" in line:
            lines[i] = _SHAPE_ATTRIBUTE.sub(r"``\1``", line)


def setup(app):
    app.connect("source-read", _drop_missing_pages)
    app.connect("autodoc-process-docstring", _quote_shape_attributes)
