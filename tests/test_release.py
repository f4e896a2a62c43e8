"""Tests for sklearn_dpgmm.release: the published release file format."""

import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

import sklearn_dpgmm
from sklearn_dpgmm import DPGaussianMixture, PrivacyLeakWarning
from sklearn_dpgmm.accounting import epsilon_from_gdp, gdp_from_noise_multipliers
from sklearn_dpgmm.release import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ReleaseFormatError,
    load_release,
    save_release,
)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
BOUNDS = ([-6.0, -6.0, -6.0], [6.0, 6.0, 6.0])


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(7)
    return np.concatenate(
        [rng.normal(-2.0, 0.7, (300, 3)), rng.normal(2.0, 1.0, (300, 3))]
    )


@pytest.fixture(scope="module")
def fitted(X):
    """One fitted private model per covariance type."""
    return {
        ct: DPGaussianMixture(
            n_components=2,
            covariance_type=ct,
            epsilon=2.0,
            delta=1e-6,
            bounds=BOUNDS,
            max_iter=6,
            compute_kl=False,
            random_state=3,
        ).fit(X)
        for ct in COVARIANCE_TYPES
    }


def write_json(path, document):
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# Round trip ---------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_round_trip_behaves_like_the_fitted_model(tmp_path, fitted, X, covariance_type):
    est = fitted[covariance_type]
    path = save_release(est, tmp_path / "model.json")
    assert path == tmp_path / "model.json"
    loaded = load_release(path)

    assert isinstance(loaded, DPGaussianMixture)
    check_is_fitted(loaded)
    assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    assert loaded.score(X) == est.score(X)
    assert_array_equal(loaded.predict(X), est.predict(X))
    assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    for name in (
        "weights_",
        "means_",
        "covariances_",
        "precisions_",
        "precisions_cholesky_",
        "noise_multipliers_",
    ):
        assert_array_equal(getattr(loaded, name), getattr(est, name), err_msg=name)
    assert_array_equal(loaded.bounds_[0], est.bounds_[0])
    assert_array_equal(loaded.bounds_[1], est.bounds_[1])
    assert loaded.epsilon_spent_ == est.epsilon_spent_
    assert loaded.clip_radius_ == est.clip_radius_
    assert loaded.n_iter_ == est.n_iter_
    assert loaded.n_features_in_ == est.n_features_in_
    assert np.isnan(loaded.kl_to_nonprivate_)

    # Same seed, same draw.
    loaded.set_params(random_state=11)
    reference = clone(est).set_params(random_state=11)
    for attr in vars(est):
        if attr.endswith("_"):
            setattr(reference, attr, getattr(est, attr))
    drawn, labels = loaded.sample(40)
    expected, expected_labels = reference.sample(40)
    assert_array_equal(drawn, expected)
    assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_loaded_constructor_parameters(tmp_path, fitted, covariance_type):
    est = fitted[covariance_type]
    loaded = load_release(save_release(est, tmp_path / "m.json"))
    params = loaded.get_params()
    for name in (
        "n_components",
        "covariance_type",
        "epsilon",
        "delta",
        "max_iter",
        "reg_covar",
        "init_params",
        "allocation",
    ):
        assert params[name] == est.get_params()[name], name
    assert_array_equal(params["bounds"][0], BOUNDS[0])
    assert_array_equal(params["bounds"][1], BOUNDS[1])
    # The seed of the noise is never published.
    assert params["random_state"] is None


def test_loaded_model_refits_like_a_new_estimator(tmp_path, fitted, X):
    loaded = load_release(save_release(fitted["diag"], tmp_path / "m.json"))
    refit = clone(loaded).set_params(random_state=0).fit(X)
    check_is_fitted(refit)
    assert refit.epsilon_spent_ <= loaded.epsilon


def test_feature_names_round_trip(tmp_path, X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["height", "weight, kg", "age"])
    est = DPGaussianMixture(
        2, epsilon=1.0, bounds=BOUNDS, compute_kl=False, random_state=0
    ).fit(frame)
    loaded = load_release(save_release(est, tmp_path / "named.json"))
    assert list(loaded.feature_names_in_) == ["height", "weight, kg", "age"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(loaded.score_samples(frame), est.score_samples(frame))


def test_json_is_strict_and_documented_fields_are_present(tmp_path, fitted):
    est = fitted["tied"]
    path = save_release(est, tmp_path / "m.json")
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text, parse_constant=pytest.fail)
    assert doc["format"] == FORMAT_NAME == "sklearn-dpgmm-release"
    assert doc["format_version"] == FORMAT_VERSION == 1
    assert doc["package_version"] == sklearn_dpgmm.__version__
    assert doc["private"] is True
    assert doc["warning"] is None
    model = doc["model"]
    assert model["n_components"] == 2
    assert model["n_features"] == 3
    assert model["covariance_type"] == "tied"
    assert model["feature_names"] is None
    assert doc["bounds"] == {"lower": BOUNDS[0], "upper": BOUNDS[1], "source": "public"}
    privacy = doc["privacy"]
    assert privacy["epsilon"] == 2.0
    assert privacy["delta"] == 1e-6
    assert privacy["epsilon_spent"] == est.epsilon_spent_
    assert privacy["neighbouring_relation"] == "add/remove one record"
    assert privacy["noise_multiplier_groups"] == ["counts", "first", "second"]
    assert np.shape(privacy["noise_multipliers"]) == (6, 3)
    assert isinstance(privacy["mechanism"], str) and privacy["mechanism"]
    assert doc["fit_parameters"]["max_iter"] == 6


def test_anyone_can_re_account_from_the_file(tmp_path, fitted):
    doc = json.loads(save_release(fitted["full"], tmp_path / "m.json").read_text())
    privacy = doc["privacy"]
    mu = gdp_from_noise_multipliers(privacy["noise_multipliers"])
    assert mu == pytest.approx(privacy["mu"], rel=1e-12)
    assert epsilon_from_gdp(mu, privacy["delta"]) == pytest.approx(
        privacy["epsilon_spent"], rel=1e-9
    )
    assert privacy["epsilon_spent"] <= privacy["epsilon"]


# What is (not) written ----------------------------------------------------


def test_no_kl_and_no_seed_are_written(tmp_path, X):
    est = DPGaussianMixture(
        2, epsilon=1.0, bounds=BOUNDS, max_iter=3, compute_kl=True, random_state=5
    ).fit(X)
    assert np.isfinite(est.kl_to_nonprivate_)
    text = save_release(est, tmp_path / "m.json").read_text(encoding="utf-8")
    keys = _all_keys(json.loads(text))
    assert "model" in keys and "epsilon_spent" in keys
    for key in keys:
        assert "kl" not in key.lower() and "nonprivate" not in key.lower(), key
        assert "seed" not in key and "random_state" not in key, key
    assert repr(est.kl_to_nonprivate_) not in text
    assert "kl_to_nonprivate" not in text


def _all_keys(value):
    if isinstance(value, dict):
        return set(value) | set().union(*map(_all_keys, value.values()))
    if isinstance(value, list):
        return set().union(*map(_all_keys, value))
    return set()


def test_bounds_from_data_is_flagged_not_private(tmp_path, X):
    with pytest.warns(PrivacyLeakWarning):
        est = DPGaussianMixture(
            2, epsilon=1.0, bounds=None, compute_kl=False, random_state=0
        ).fit(X)
    path = save_release(est, tmp_path / "leak.json")
    doc = json.loads(path.read_text())
    assert doc["private"] is False
    assert "NOT differentially private" in doc["warning"]
    assert "bounds=None" in doc["warning"]
    assert doc["bounds"]["source"] == "data"
    loaded = load_release(path)
    assert loaded.bounds is None
    assert_array_equal(loaded.bounds_[0], est.bounds_[0])


def test_infinite_epsilon_is_flagged_not_private(tmp_path, X):
    est = DPGaussianMixture(
        2, epsilon=np.inf, bounds=BOUNDS, compute_kl=False, random_state=0
    ).fit(X)
    path = save_release(est, tmp_path / "inf.json")
    doc = json.loads(path.read_text(), parse_constant=pytest.fail)
    assert doc["private"] is False
    assert "epsilon is infinite" in doc["warning"]
    assert doc["privacy"]["epsilon"] == "inf"
    assert doc["privacy"]["epsilon_spent"] == "inf"
    loaded = load_release(path)
    assert loaded.epsilon == np.inf and loaded.epsilon_spent_ == np.inf
    assert_array_equal(loaded.score_samples(X), est.score_samples(X))


# Writing ------------------------------------------------------------------


def test_refuses_to_overwrite_without_overwrite(tmp_path, fitted):
    path = tmp_path / "m.json"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_release(fitted["full"], path)
    assert path.read_text() == "keep me"
    save_release(fitted["full"], path, overwrite=True)
    assert json.loads(path.read_text())["format"] == FORMAT_NAME
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_refuses_unfitted_and_non_private_estimators(tmp_path, X):
    with pytest.raises(NotFittedError):
        save_release(DPGaussianMixture(bounds=BOUNDS), tmp_path / "a.json")
    with pytest.raises(TypeError, match="DPGaussianMixture"):
        save_release(GaussianMixture(2).fit(X), tmp_path / "b.json")
    assert list(tmp_path.iterdir()) == []


# Reading corrupt files ------------------------------------------------------


def _set(*keys, value):
    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _delete(*keys):
    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit


def _scale_weights(doc):
    doc["model"]["weights"] = [0.45 * w for w in doc["model"]["weights"]]


def _negative_weight(doc):
    doc["model"]["weights"] = [1.5, -0.5]


DOCUMENT_CORRUPTIONS = {
    "wrong format": (_set("format", value="something-else"), "not an sklearn-dpgmm"),
    "newer version": (
        _set("format_version", value=2),
        "unsupported 'format_version' 2.*newer",
    ),
    "version as text": (_set("format_version", value="1"), "must be an integer"),
    "missing model": (_delete("model"), "has no 'model' field"),
    "missing weights": (_delete("model", "weights"), "has no 'weights' field"),
    "short weights": (
        _set("model", "weights", value=[1.0]),
        r"'model.weights' must have shape \(2,\)",
    ),
    "means wrong shape": (
        _set("model", "means", value=[[0.0, 0.0], [1.0, 1.0]]),
        r"'model.means' must have shape \(2, 3\)",
    ),
    "text in means": (
        _set("model", "means", value=[[0.0, "a", 0.0], [1.0, 1.0, 1.0]]),
        r"'model.means\[0\]\[1\]' must be a number",
    ),
    "bool in means": (
        _set("model", "means", value=[[0.0, True, 0.0], [1.0, 1.0, 1.0]]),
        "must be a number",
    ),
    "weights off simplex": (_scale_weights, "sum to .*not 1"),
    "negative weight": (_negative_weight, "a weight is negative"),
    "not positive definite": (
        _set(
            "model",
            "covariances",
            value=[[[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]] * 2,
        ),
        "not positive definite",
    ),
    "not symmetric": (
        _set(
            "model",
            "covariances",
            value=[[[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]] * 2,
        ),
        "not symmetric",
    ),
    "unknown covariance type": (
        _set("model", "covariance_type", value="banded"),
        "covariance_type' must be one of",
    ),
    "zero components": (
        _set("model", "n_components", value=0),
        "n_components' must be an integer >= 1",
    ),
    "feature names count": (
        _set("model", "feature_names", value=["a", "b"]),
        "has 2 names but n_features is 3",
    ),
    "bounds inverted": (
        _set("bounds", "lower", value=[-6.0, 7.0, -6.0]),
        "feature 1 has lower=7.0",
    ),
    "bounds wrong length": (
        _set("bounds", "upper", value=[6.0]),
        r"'bounds.upper' must have shape \(3,\)",
    ),
    "bounds source": (_set("bounds", "source", value="guess"), "bounds.source"),
    "delta out of range": (_set("privacy", "delta", value=1.5), r"delta' must be in"),
    "epsilon_spent tampered": (
        _set("privacy", "epsilon_spent", value=0.1),
        "epsilon_spent' is 0.1 but the noise multipliers give",
    ),
    "mu tampered": (_set("privacy", "mu", value=0.5), "'privacy.mu' is 0.5"),
    "multipliers wrong rows": (
        _set("privacy", "noise_multipliers", value=[[1.0, 1.0, 1.0]]),
        r"noise_multipliers' must have shape \(6, 3\)",
    ),
    "negative multiplier": (
        _set("privacy", "noise_multipliers", value=[[-1.0, 1.0, 1.0]] * 6),
        "must be >= 0",
    ),
    "other relation": (
        _set("privacy", "neighbouring_relation", value="replace one record"),
        "neighbouring_relation",
    ),
    "claims private with data bounds": (
        _set("bounds", "source", value="data"),
        "'private' is true but the bounds were read from the data",
    ),
    "private not a bool": (_set("private", value="yes"), "must be true or false"),
    "fit parameter invalid": (
        _set("fit_parameters", "allocation", value="greedy"),
        "'allocation' parameter",
    ),
    "model not an object": (_set("model", value=[1, 2]), "'model' must be a JSON"),
}


@pytest.mark.parametrize("case", sorted(DOCUMENT_CORRUPTIONS))
def test_corrupt_documents_are_refused(tmp_path, fitted, case):
    edit, match = DOCUMENT_CORRUPTIONS[case]
    path = save_release(fitted["full"], tmp_path / "bad.json")
    doc = json.loads(path.read_text())
    edit(doc)
    write_json(path, doc)
    with pytest.raises(ReleaseFormatError, match=match) as info:
        load_release(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)


def _truncate(text):
    return text[: len(text) // 2]


def _nan_mean(text):
    doc = json.loads(text)
    doc["model"]["means"][0][0] = float("nan")
    return json.dumps(doc)


def _huge_mean(text):
    doc = json.loads(text)
    doc["model"]["means"][0][0] = "@@"
    return json.dumps(doc).replace('"@@"', "1e999")


def _duplicate_key(text):
    return text.replace('"format_version": 1,', '"format_version": 1, "format": "x",')


TEXT_CORRUPTIONS = {
    "truncated": (_truncate, "not valid JSON \\(the file looks truncated\\)"),
    "empty": (lambda text: "", "not valid JSON"),
    "not json": (lambda text: "weights: 0.5, 0.5", "not valid JSON"),
    "top level list": (lambda text: "[1, 2, 3]", "the file must be a JSON object"),
    "NaN constant": (_nan_mean, "non-standard JSON number NaN"),
    "overflowing number": (_huge_mean, "'model.means' must hold finite numbers"),
    "duplicate key": (_duplicate_key, "duplicate key 'format'"),
}


@pytest.mark.parametrize("case", sorted(TEXT_CORRUPTIONS))
def test_corrupt_text_is_refused(tmp_path, fitted, case):
    edit, match = TEXT_CORRUPTIONS[case]
    path = save_release(fitted["diag"], tmp_path / "bad.json")
    path.write_text(edit(path.read_text()), encoding="utf-8")
    with pytest.raises(ReleaseFormatError, match=match) as info:
        load_release(path)
    assert str(path) in str(info.value)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ReleaseFormatError, match="not UTF-8"):
        load_release(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_release(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("covariance_type", "bad", "match"),
    [
        ("diag", [[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]], "variance that is not positive"),
        ("spherical", [1.0, 0.0], "variance that is not positive"),
        ("tied", [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "definite"),
    ],
)
def test_non_positive_covariances_of_every_type(
    tmp_path, fitted, covariance_type, bad, match
):
    path = save_release(fitted[covariance_type], tmp_path / "m.json")
    doc = json.loads(path.read_text())
    doc["model"]["covariances"] = bad
    write_json(path, doc)
    with pytest.raises(ReleaseFormatError, match=match):
        load_release(path)


def test_unknown_extra_fields_are_ignored(tmp_path, fitted, X):
    path = save_release(fitted["spherical"], tmp_path / "m.json")
    doc = json.loads(path.read_text())
    doc["comment"] = "published for the 2026 survey"
    write_json(path, doc)
    assert_array_equal(
        load_release(path).score_samples(X), fitted["spherical"].score_samples(X)
    )
