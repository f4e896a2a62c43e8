"""Tests for the command-line interface (python -m sklearn_dpgmm)."""

import csv
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from sklearn_dpgmm import __version__, cli
from sklearn_dpgmm.release import load_release

BOUND_FLAGS = ["--bound", "height:100:220", "--bound", "weight:20:200"]


@pytest.fixture
def data_csv(tmp_path):
    """A small CSV with two numeric columns among an id and a text column."""
    rng = np.random.default_rng(0)
    rows = np.concatenate(
        [
            rng.normal([160.0, 55.0], [6.0, 6.0], (150, 2)),
            rng.normal([185.0, 90.0], [6.0, 8.0], (150, 2)),
        ]
    )
    path = tmp_path / "people.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "height", "weight", "team"])
        for i, (h, w) in enumerate(rows):
            writer.writerow([i, f"{h:.1f}", f"{w:.1f}", f"team {i % 3}"])
    return path


def run_module(*args, cwd):
    """Run ``python -m sklearn_dpgmm ARGS`` in a fresh interpreter."""
    env = dict(os.environ, MPLBACKEND="Agg")
    # Many small linear-algebra calls: BLAS threads only add overhead here.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(
        [sys.executable, "-m", "sklearn_dpgmm", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_main(capsys, *args):
    """Run ``cli.main`` in this process; return (status, stdout, stderr)."""
    status = cli.main([str(a) for a in args], prog="sklearn-dpgmm")
    out, err = capsys.readouterr()
    return status, out, err


def fit_args(data, output, *extra):
    return ["fit", data, "-k", "2", "--epsilon", "1", "--columns", "height,weight"] + [
        *BOUND_FLAGS,
        "-o",
        output,
        "--seed",
        "1",
        *extra,
    ]


def assert_one_line_error(err, match):
    """One ``error: ...`` line, last on stderr (progress may come before it)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error")]
    assert errors == [lines[-1]], err
    assert lines[-1].startswith("error: "), err
    assert match in lines[-1], err
    assert "Traceback" not in err


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


# End to end through a subprocess ------------------------------------------


def test_fit_sample_score_end_to_end(tmp_path, data_csv):
    fitted = run_module(*fit_args(data_csv, "release.json"), cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert "epsilon_spent=" in fitted.stdout and "(private)" in fitted.stdout
    assert "Iteration" in fitted.stderr  # progress goes to stderr
    release = load_release(tmp_path / "release.json")
    assert list(release.feature_names_in_) == ["height", "weight"]
    assert release.n_components == 2 and release.epsilon == 1.0
    np.testing.assert_array_equal(release.bounds_[0], [100.0, 20.0])
    np.testing.assert_array_equal(release.bounds_[1], [220.0, 200.0])

    sampled = run_module(
        "sample", "release.json", "-n", 50, "-o", "synthetic.csv", "--seed", 2,
        cwd=tmp_path,
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    rows = read_rows(tmp_path / "synthetic.csv")
    assert rows[0] == ["height", "weight"]
    values = np.array(rows[1:], dtype=float)
    assert values.shape == (50, 2) and np.all(np.isfinite(values))

    scored = run_module(
        "score", "release.json", data_csv, "-o", "scores.csv", cwd=tmp_path
    )
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("mean log-likelihood: ")
    mean = float(scored.stdout.split(":")[1].split()[0])
    rows = read_rows(tmp_path / "scores.csv")
    assert rows[0] == ["log_likelihood"]
    per_row = np.array(rows[1:], dtype=float).ravel()
    assert per_row.size == 300
    assert mean == pytest.approx(per_row.mean(), rel=1e-5)
    data = np.loadtxt(data_csv, delimiter=",", skiprows=1, usecols=(1, 2))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature")
        expected = release.score_samples(data)
    np.testing.assert_allclose(per_row, expected, rtol=1e-12)


def test_errors_in_a_real_process_have_no_traceback(tmp_path, data_csv):
    usage = run_module("fit", data_csv, "-k", "2", "--epsilon", "1", "-o", "r.json",
                       cwd=tmp_path)  # fmt: skip
    assert usage.returncode == 2
    assert_one_line_error(usage.stderr, "no bounds given")
    assert not (tmp_path / "r.json").exists()

    data = run_module("score", "missing.json", data_csv, cwd=tmp_path)
    assert data.returncode == 1
    assert_one_line_error(data.stderr, "cannot read missing.json")


def test_demo_writes_its_files(tmp_path):
    result = run_module("demo", "--output-dir", "out", "--seed", 0, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(cli.DEMO_FILES)
    for epsilon in ("0.5", "1", "4", "inf"):
        assert any(line.split()[:1] == [epsilon] for line in result.stdout.splitlines())
    assert "not private" in result.stdout
    release = load_release(out / "release.json")
    assert release.epsilon == cli.DEMO_RELEASED_EPSILON
    assert release.bounds is not None  # a public box, not read from the data
    assert read_rows(out / "synthetic.csv")[0] == list(release.feature_names_in_)
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    for name in cli.DEMO_FILES:
        assert str((out / name).resolve()) in result.stdout

    again = run_module("demo", "--output-dir", "out", cwd=tmp_path)
    assert again.returncode == 1
    assert_one_line_error(again.stderr, "exists; pass --force")


# In-process: options ------------------------------------------------------


def test_bounds_file(tmp_path, data_csv, capsys):
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("column,lower,upper\nweight,20,200\nheight,100,220\nid,0,1e6\n")
    status, out, err = run_main(
        capsys, "fit", data_csv, "-k", "2", "--epsilon", "2", "--columns",
        "height,weight", "--bounds-file", bounds, "-o", tmp_path / "r.json",
    )  # fmt: skip
    assert status == 0, err
    release = load_release(tmp_path / "r.json")
    np.testing.assert_array_equal(release.bounds_[0], [100.0, 20.0])
    assert release.epsilon == 2.0


def test_lower_upper_broadcast_and_options(tmp_path, data_csv, capsys):
    status, _, err = run_main(
        capsys, "fit", data_csv, "-k", "3", "--epsilon", "0.5", "--delta", "1e-7",
        "--covariance-type", "diag", "--max-iter", "4", "--columns",
        "height,weight", "--lower", "0", "--upper", "250", "-o", tmp_path / "r.json",
    )  # fmt: skip
    assert status == 0, err
    release = load_release(tmp_path / "r.json")
    assert release.covariance_type == "diag" and release.n_components == 3
    assert release.delta == 1e-7 and release.max_iter == 4
    np.testing.assert_array_equal(release.bounds_[1], [250.0, 250.0])


def test_quiet_prints_nothing(tmp_path, data_csv, capsys):
    status, out, err = run_main(capsys, *fit_args(data_csv, tmp_path / "r.json"), "-q")
    assert status == 0
    assert out == "" and err == ""
    status, out, err = run_main(
        capsys, "sample", tmp_path / "r.json", "-n", "3", "-o", tmp_path / "s.csv",
        "--quiet",
    )  # fmt: skip
    assert status == 0 and out == "" and err == ""


def test_bounds_from_data_warns_and_is_flagged(tmp_path, data_csv, capsys):
    status, out, err = run_main(
        capsys, "fit", data_csv, "-k", "2", "--epsilon", "1", "--columns",
        "height,weight", "--bounds-from-data", "-o", tmp_path / "r.json", "-q",
    )  # fmt: skip
    assert status == 0
    assert "warning:" in err and "NOT differentially private" in err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["private"] is False and doc["bounds"]["source"] == "data"
    status, out, err = run_main(capsys, "score", tmp_path / "r.json", data_csv)
    assert status == 0
    assert "NOT a differentially private release" in err


def test_sample_without_feature_names_uses_x_columns(tmp_path, capsys):
    from sklearn_dpgmm import DPGaussianMixture
    from sklearn_dpgmm.release import save_release

    X = np.random.default_rng(1).normal(size=(100, 3))
    est = DPGaussianMixture(2, bounds=(-5, 5), compute_kl=False, random_state=0)
    save_release(est.fit(X), tmp_path / "r.json")
    status, _, err = run_main(
        capsys, "sample", tmp_path / "r.json", "-n", "5", "-o", tmp_path / "s.csv"
    )
    assert status == 0, err
    assert read_rows(tmp_path / "s.csv")[0] == ["x0", "x1", "x2"]
    # score such a release: all columns, or the ones chosen with --columns
    data = tmp_path / "d.csv"
    data.write_text("a,b,c,d\n1,2,3,4\n0,0,0,0\n")
    status, out, err = run_main(capsys, "score", tmp_path / "r.json", data)
    assert status == 1
    assert_one_line_error(err, "4 columns")
    status, out, err = run_main(
        capsys, "score", tmp_path / "r.json", data, "--columns", "a,c,d"
    )
    assert status == 0, err
    assert "2 rows" in out


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    assert "fit" in capsys.readouterr().out
    assert cli.main(["fit", "--help"]) == 0
    assert "--bounds-file" in capsys.readouterr().out
    assert cli.main(["--version"], prog="sklearn-dpgmm") == 0
    assert capsys.readouterr().out.strip() == f"sklearn-dpgmm {__version__}"


# In-process: every user error, its status and its one-line message -----------


def _usage_cases(data):
    base = ["fit", data, "-k", "2", "--epsilon", "1", "--columns", "height,weight"]
    out = ["-o", "r.json"]
    return {
        "no command": ([], "required: COMMAND"),
        "unknown command": (["train"], "invalid choice: 'train'"),
        "unknown flag": ([*base, *BOUND_FLAGS, *out, "--frobnicate"], "--frobnicate"),
        "missing output": ([*base, *BOUND_FLAGS], "-o/--output"),
        "missing epsilon": (
            ["fit", data, "-k", "2", *BOUND_FLAGS, *out],
            "--epsilon",
        ),
        "zero epsilon": (
            ["fit", data, "-k", "2", "--epsilon", "0", *BOUND_FLAGS, *out],
            "epsilon must be > 0",
        ),
        "text epsilon": (
            ["fit", data, "-k", "2", "--epsilon", "lots", *BOUND_FLAGS, *out],
            "expected a number; got 'lots'",
        ),
        "bad delta": ([*base, "--delta", "2", *BOUND_FLAGS, *out], "delta must be"),
        "zero components": (
            ["fit", data, "-k", "0", "--epsilon", "1", *BOUND_FLAGS, *out],
            "whole number >= 1",
        ),
        "bad covariance type": (
            [*base, "--covariance-type", "banded", *BOUND_FLAGS, *out],
            "invalid choice: 'banded'",
        ),
        "no bounds": ([*base, *out], "no bounds given"),
        "lower without upper": ([*base, "--lower", "0", *out], "given together"),
        "two kinds of bounds": (
            [*base, "--lower", "0", "--upper", "1", *BOUND_FLAGS, *out],
            "one way only",
        ),
        "bad bound spec": ([*base, "--bound", "height:1", *out], "COLUMN:LOWER:UPPER"),
        "bound not numeric": (
            [*base, "--bound", "height:a:b", *out],
            "COLUMN:LOWER:UPPER with numbers",
        ),
        "bound missing column": (
            [*base, "--bound", "height:100:220", *out],
            "no bounds for column(s) 'weight'",
        ),
        "bound unknown column": (
            [*base, *BOUND_FLAGS, "--bound", "age:0:120", *out],
            "'age' that are not fitted",
        ),
        "bound inverted": (
            [*base, "--bound", "height:220:100", "--bound", "weight:20:200", *out],
            "lower=220 must be below upper=100",
        ),
        "lower count": (
            [*base, "--lower", "0,0,0", "--upper", "1", *out],
            "--lower has 3 values but 2 columns",
        ),
        "lower not numbers": ([*base, "--lower", "0,x", "--upper", "1", *out], "0,x"),
        "sample zero rows": (["sample", "r.json", "-n", "0", "-o", "s.csv"], ">= 1"),
        "negative seed": (
            ["sample", "r.json", "-n", "1", "-o", "s.csv", "--seed", "-1"],
            "--seed",
        ),
    }


@pytest.mark.parametrize("case", sorted(_usage_cases("DATA")))
def test_usage_errors_exit_2(tmp_path, data_csv, capsys, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    argv, match = _usage_cases(str(data_csv))[case]
    status, out, err = run_main(capsys, *argv)
    assert status == 2
    assert_one_line_error(err, match)
    assert not (tmp_path / "r.json").exists()


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_data_errors_exit_1(tmp_path, data_csv, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fit = ["fit", "-k", "2", "--epsilon", "1", "-o", "r.json"]
    hw = ["--columns", "height,weight", *BOUND_FLAGS]
    good = tmp_path / "good.csv"
    _write(good, "height,weight\n170,60\n180,80\n")
    cases = [
        ([*fit, "nope.csv", *hw], "cannot read nope.csv: No such file"),
        ([*fit, data_csv, "--columns", "height,age", *BOUND_FLAGS], "no column named"),
        ([*fit, data_csv, *BOUND_FLAGS], "'team 0' is not a number"),
        ([*fit, _write(tmp_path / "e.csv", ""), *hw], "the file is empty"),
        (
            [*fit, _write(tmp_path / "h.csv", "height,weight\n"), *hw],
            "no data rows",
        ),
        (
            [*fit, _write(tmp_path / "r1.csv", "height,weight\n1,2\n3\n"), *hw],
            "line 3: 1 fields but the header has 2",
        ),
        (
            [*fit, _write(tmp_path / "m.csv", "height,weight\n1,2\n3,\n"), *hw],
            "line 3, column 'weight': missing value",
        ),
        (
            [*fit, _write(tmp_path / "n.csv", "height,weight\n1,2\nnan,3\n"), *hw],
            "'nan' is not a finite number",
        ),
        (
            [*fit, _write(tmp_path / "l.csv", b"height,weight\n1,\xff\n"), *hw],
            "not UTF-8",
        ),
        (
            [*fit, _write(tmp_path / "d.csv", "height,weight,height\n1,2,3\n"), *hw],
            "column 'height' twice",
        ),
        (
            [*fit, good, "--bounds-file", "missing-bounds.csv"],
            "cannot read missing-bounds.csv",
        ),
        (
            [*fit, good, "--bounds-file", _write(tmp_path / "b1.csv", "a,b,c\n")],
            "header must be 'column,lower,upper'",
        ),
        (
            [
                *fit,
                good,
                "--bounds-file",
                _write(tmp_path / "b0.csv", "column,lower,upper\n"),
            ],
            "no bounds after the header",
        ),
        (
            [
                *fit,
                good,
                "--bounds-file",
                _write(tmp_path / "b2.csv", "column,lower,upper\nheight,0,300\n"),
            ],
            "no bounds for column(s) 'weight'",
        ),
        (
            [
                *fit,
                good,
                "--bounds-file",
                _write(
                    tmp_path / "b3.csv",
                    "column,lower,upper\nheight,0,300\nweight,zero,300\n",
                ),
            ],
            "line 3, column 'lower': 'zero' is not a number",
        ),
        (
            [
                *fit,
                good,
                "--bounds-file",
                _write(
                    tmp_path / "b4.csv",
                    "column,lower,upper\nheight,300,0\nweight,0,300\n",
                ),
            ],
            "lower=300 must be below upper=0",
        ),
        ([*fit[:-1], "no-such-dir/r.json", good, *hw], "does not exist"),
        (["sample", "missing.json", "-n", "3", "-o", "s.csv"], "cannot read"),
        (
            ["sample", _write(tmp_path / "bad.json", "{"), "-n", "3", "-o", "s.csv"],
            "invalid release file",
        ),
        (["score", _write(tmp_path / "bad2.json", "[]"), good], "JSON object"),
    ]
    for argv, match in cases:
        status, out, err = run_main(capsys, *argv)
        assert status == 1, (argv, err)
        assert_one_line_error(err, match)
        assert not (tmp_path / "r.json").exists()
        assert not (tmp_path / "s.csv").exists()


def test_score_needs_the_release_columns(tmp_path, data_csv, capsys):
    assert run_main(capsys, *fit_args(data_csv, tmp_path / "r.json"), "-q")[0] == 0
    other = _write(tmp_path / "o.csv", "height,age\n1,2\n")
    status, _, err = run_main(capsys, "score", tmp_path / "r.json", other)
    assert status == 1
    assert_one_line_error(err, "no column named 'weight'")
    status, _, err = run_main(
        capsys, "score", tmp_path / "r.json", other, "--columns", "height,age"
    )
    assert status == 2
    assert_one_line_error(err, "only for releases without feature names")


# --force ---------------------------------------------------------------------


def test_force_is_needed_to_overwrite(tmp_path, data_csv, capsys):
    release = tmp_path / "r.json"
    release.write_text("old")
    status, _, err = run_main(capsys, *fit_args(data_csv, release))
    assert status == 1
    assert_one_line_error(err, "exists; pass --force")
    assert release.read_text() == "old"
    assert run_main(capsys, *fit_args(data_csv, release), "--force")[0] == 0
    assert load_release(release).n_components == 2

    for command in (
        ["sample", release, "-n", "4", "-o"],
        ["score", release, data_csv, "-o"],
    ):
        target = tmp_path / "out.csv"
        target.write_text("old")
        status, _, err = run_main(capsys, *command, target)
        assert status == 1
        assert_one_line_error(err, "exists; pass --force")
        assert target.read_text() == "old"
        status, _, err = run_main(capsys, *command, target, "--force")
        assert status == 0, err
        assert target.read_text() != "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.csv",
        "people.csv",
        "r.json",
    ]


def test_demo_without_matplotlib_skips_the_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setattr(cli, "DEMO_EPSILONS", (cli.DEMO_RELEASED_EPSILON,))
    status, out, err = run_main(capsys, "demo", "--output-dir", tmp_path / "d")
    assert status == 0, err
    assert "matplotlib is not installed" in err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "release.json",
        "synthetic.csv",
    ]
