"""The differentially private Gaussian mixture estimator."""

import warnings

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _validation as v
from ._allocation import (
    ALLOCATIONS,
    iteration_budgets,
    kl_coefficients,
    split_iteration,
)
from ._gaussian import (
    COVARIANCE_TYPES,
    estep_blocks,
    full_covariances,
    log_resp_blocks,
    precision_cholesky,
    precisions_from_cholesky,
)
from ._geometry import Box
from ._init import broad_covariances, random_init, split_components, split_schedule
from ._mstep import MixtureParams, m_step, pseudo_count
from ._statistics import (
    GROUPS,
    accumulate,
    add_noise,
    clip_radius,
    empty_statistics,
    noise_scales,
    noise_stds,
    whitening,
)
from ._threads import serial_blas
from .accounting import (
    epsilon_from_gdp,
    gdp_from_epsilon_delta,
    gdp_from_noise_multipliers,
)
from .budget import charge_active_budget, check_active_budget
from .exceptions import PrivacyLeakWarning
from .kl import kl_mixture_mc

# The calibrated GDP parameter is shrunk by this relative amount so that
# rounding in the composition of the per-release parameters can never push
# epsilon_spent_ above the requested epsilon.
_CALIBRATION_MARGIN = 1e-10

# Pseudo-records per unit of noise std granted to each component in the
# M-step (see _mstep.pseudo_count).
_PRIOR_STRENGTH = 4.0

# Monte Carlo settings of kl_to_nonprivate_.
KL_N_SAMPLES = 20_000
KL_SEED = 0


class DPGaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by differentially private EM.

    The estimator clips every record into the public box ``bounds``, runs a
    fixed number of EM iterations in which each iteration's sufficient
    statistics are released through the Gaussian mechanism, and turns the noisy
    statistics into a valid mixture. The released parameters are
    (``epsilon``, ``delta``)-differentially private; see Notes.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.

    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Covariance structure, with the meaning it has in
        :class:`sklearn.mixture.GaussianMixture`.

    epsilon : float, default=1.0
        Privacy-loss bound of the whole fit, ``epsilon > 0``. ``np.inf`` fits
        without noise (no privacy).

    delta : float, default=1e-5
        Probability of failure of the guarantee, in (0, 1). Choose it well
        below ``1 / n_samples``.

    bounds : tuple (lower, upper) or None, default=None
        Public box the records are clipped into. ``lower`` and ``upper`` are
        scalars or arrays of length ``n_features`` with ``lower < upper``. They
        must not be derived from the data. ``None`` reads the box from the data:
        the guarantee is then void and a :class:`PrivacyLeakWarning` is issued.

    max_iter : int, default=10
        Number of private EM iterations; all of them run (there is no
        data-dependent stopping rule). More iterations split the budget
        thinner.

    reg_covar : float, default=1e-6
        Non-negative amount added to the diagonal of every covariance, in the
        units of the data.

    init_params : {"split", "random"}, default="split"
        Initialisation when no ``*_init`` is given; neither reads the data
        outside the private iterations. ``"split"`` starts from one broad
        component and doubles the number of components by splitting released
        components along their main axis during the first half of the
        iterations (the splits are post-processing; the iterations between
        them are ordinary private iterations). ``"random"`` starts all
        ``n_components`` at once with equal weights, means drawn uniformly in
        the box and covariances of a uniform distribution over the box shrunk
        by ``n_components ** (2 / n_features)``. ``"split"`` is the default
        because it had lower KL in ``doc/benchmarks.md``.

    weights_init : array-like of shape (n_components,), default=None
        Initial weights, public by assumption.

    means_init : array-like of shape (n_components, n_features), default=None
        Initial means, public by assumption.

    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), public by assumption, shaped
        as in :class:`sklearn.mixture.GaussianMixture`.

    allocation : {"kl", "uniform"}, default="kl"
        How each iteration's budget is split across the statistic groups.
        ``"uniform"`` gives every group the same share; ``"kl"`` minimises the
        expected KL divergence the noise causes, using only the previous
        released parameters (see ``doc/mechanism.md``). Across iterations the
        share of the budget grows linearly with the iteration number. ``"kl"``
        is the default because it had lower KL in ``doc/benchmarks.md``.

    compute_kl : bool, default=True
        Whether ``fit`` also fits a non-private
        :class:`~sklearn.mixture.GaussianMixture` on the clipped data and
        estimates ``kl_to_nonprivate_``. That number is not private. It can
        cost more than the private fit (a clipped copy of ``X``, a full
        scikit-learn fit and a Monte Carlo estimate; measured in
        ``doc/benchmarks.md``); pass ``False`` when only the release matters.

    random_state : int, RandomState instance, Generator or None, default=None
        Source of the privacy noise and of the random initialisation. ``None``
        draws fresh entropy from the operating system, which is what a model to
        be published needs: anyone who knows the seed can reproduce the noise.

    verbose : int, default=0
        Print progress: 1 prints the start and the end, 2 also every
        ``verbose_interval`` iterations.

    verbose_interval : int, default=10
        Iterations between two progress lines when ``verbose >= 2``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Released mixture weights.
    means_ : ndarray of shape (n_components, n_features)
        Released means, inside the box.
    covariances_ : ndarray
        Released covariances, shaped by ``covariance_type``.
    precisions_ : ndarray
        Inverses of ``covariances_``.
    precisions_cholesky_ : ndarray
        Cholesky factors of ``precisions_``.
    n_iter_ : int
        Number of EM iterations run (always ``max_iter``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.
    bounds_ : tuple of ndarray
        ``(lower, upper)`` arrays of the box used.
    epsilon_spent_ : float
        Epsilon consumed at ``delta`` (never above ``epsilon``).
    noise_multipliers_ : ndarray of shape (max_iter, 3)
        Noise standard deviation over L2 sensitivity of every Gaussian release:
        row ``t`` is iteration ``t``; columns are the groups ``counts`` (soft
        counts), ``first`` (first moments) and ``second`` (second moments).
        Release ``(t, g)`` is ``1 / noise_multipliers_[t, g]``-GDP, and the fit
        is ``mu``-GDP with ``mu = sqrt(sum(noise_multipliers_ ** -2))``.
        All zeros when ``epsilon=np.inf``.
    clip_radius_ : float
        Public clipping radius of the whitened deviations, in units of each
        component's released standard deviation (infinite without noise).
    kl_to_nonprivate_ : float
        Monte Carlo estimate of KL(P_nonprivate || P_private) in nats, where
        P_nonprivate is :class:`sklearn.mixture.GaussianMixture` with the same
        ``n_components``, ``covariance_type`` and ``reg_covar``, fitted
        (``random_state=0``) on the same clipped data, and the estimate uses
        ``20000`` draws from P_nonprivate with seed ``0``. **This number reads
        the raw data and is not covered by the privacy guarantee**; do not
        publish it. NaN when ``compute_kl=False``.
    kl_to_nonprivate_stderr_ : float
        Standard error of ``kl_to_nonprivate_``.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The non-private estimator.

    Notes
    -----
    **Guarantee.** The released parameters (``weights_``, ``means_``,
    ``covariances_`` and everything derived from them) are (``epsilon``,
    ``delta``)-differentially private with respect to adding or removing one
    record, for records clipped into ``bounds``, provided ``bounds``, the
    ``*_init`` arrays and the hyper-parameters do not depend on the data.

    **Not covered:** ``kl_to_nonprivate_``; any fit with ``bounds=None``;
    anything computed from the training data after ``fit`` (labels, scores,
    ``bic``/``aic`` of the training data); several fits on the same data, whose
    budgets add up (see :class:`sklearn_dpgmm.PrivacyBudget`); a model fitted
    with a seed someone else knows. The Gaussian noise is drawn with numpy's
    floating-point sampler, which is not hardened against attacks on the low
    bits of floating-point numbers.

    **Mechanism.** Each iteration computes responsibilities from the previous
    *released* parameters and releases the per-component soft counts, first
    moments and second moments, each with Gaussian noise calibrated to its L2
    sensitivity. Releases compose exactly in Gaussian differential privacy and
    the noise is calibrated so that the whole fit spends exactly
    (``epsilon``, ``delta``). ``doc/mechanism.md`` derives every step.

    **Cost.** ``fit`` reads ``X`` in blocks of rows and does not copy an array:
    float32 input stays float32 in memory, and each block is converted to
    float64 as it is processed (all arithmetic is float64). With
    ``compute_kl=False``, memory beyond ``X`` does not grow with
    ``n_samples`` (at most 12 MiB in the speed benchmark). The small
    matrix algebra between passes runs on one BLAS thread; the passes keep
    the caller's BLAS threads. ``doc/benchmarks.md`` compares time and memory
    with :class:`~sklearn.mixture.GaussianMixture`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dpgmm import DPGaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-2, 0.5, (500, 2)),
    ...                     rng.normal(2, 0.5, (500, 2))])
    >>> gm = DPGaussianMixture(n_components=2, epsilon=1.0, bounds=(-5, 5),
    ...                        compute_kl=False, random_state=0).fit(X)
    >>> gm.weights_.shape, gm.means_.shape
    ((2,), (2, 2))
    >>> bool(gm.epsilon_spent_ <= 1.0)
    True
    """

    _parameter_constraints = {
        "n_components": v.integer(1),
        "covariance_type": v.options(COVARIANCE_TYPES),
        "epsilon": v.real(
            0,
            np.inf,
            closed="right",
            allow_inf=True,
            hint="Pass a positive budget, or np.inf to fit without noise.",
        ),
        "delta": v.real(
            0, 1, hint="Pass a small positive probability, well below 1/n_samples."
        ),
        "bounds": v.bounds_like(),
        "max_iter": v.integer(1),
        "reg_covar": v.real(0, np.inf, closed="left"),
        "init_params": v.options(("random", "split")),
        "weights_init": v.none_or_array_like(),
        "means_init": v.none_or_array_like(),
        "precisions_init": v.none_or_array_like(),
        "allocation": v.options(ALLOCATIONS),
        "compute_kl": v.boolean(),
        "random_state": v.random_state(),
        "verbose": v.integer(0),
        "verbose_interval": v.integer(1),
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        epsilon=1.0,
        delta=1e-5,
        bounds=None,
        max_iter=10,
        reg_covar=1e-6,
        init_params="split",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        allocation="kl",
        compute_kl=True,
        random_state=None,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.epsilon = epsilon
        self.delta = delta
        self.bounds = bounds
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.allocation = allocation
        self.compute_kl = compute_kl
        self.random_state = random_state
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None):
        """Fit the mixture by private EM and release its parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training records. Not modified.
        y : Ignored
            Present for API consistency.

        Returns
        -------
        self : DPGaussianMixture
            The fitted estimator.
        """
        v.validate_parameters(self, self._parameter_constraints)
        mu_total = self._calibrate()
        # A fit that would overspend an open PrivacyBudget is refused before
        # X is read; it is charged only once the inputs are known to be valid,
        # so a fit rejected for bad input costs nothing.
        check_active_budget(mu_total, self._describe())
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        box = self._box(X)
        user = self._user_init(X.shape[1])
        charge_active_budget(mu_total, self._describe())

        rng = _noise_generator(self.random_state, stream=0)
        radius = clip_radius(X.shape[1], noisy=np.isfinite(mu_total))
        self._print_start(mu_total)
        params, multipliers = self._run_em(X, box, user, mu_total, radius, rng)
        self._store(box, params, multipliers, radius)
        self._print_end()
        if self.compute_kl:
            self._estimate_kl(X, box)
        else:
            self.kl_to_nonprivate_ = np.nan
            self.kl_to_nonprivate_stderr_ = np.nan
        return self

    def _run_em(self, X, box, user, mu_total, radius, rng):
        """All private EM iterations; returns the final parameters (normalised
        units) and the noise multipliers of every release."""
        ct, d = self.covariance_type, X.shape[1]
        mu_iter = iteration_budgets(mu_total, self.max_iter)
        scales = noise_scales(radius)
        multipliers = np.zeros((self.max_iter, len(GROUPS)))
        params = self._initial_params(box, user, rng, d)
        active = self._schedule()
        shifts_sq = np.zeros(len(params.weights))
        for t in range(self.max_iter):
            # Only the passes over X use multi-threaded BLAS; the (d, d)
            # algebra around them runs on one thread (see _threads).
            with serial_blas():
                if active[t] > len(params.weights):
                    params = split_components(
                        params, active[t], ct, box.half_widths, rng
                    )
                    shifts_sq = np.zeros(active[t])
                coefficients = kl_coefficients(params.weights, shifts_sq, d, ct)
                mus = split_iteration(
                    mu_iter[t],
                    coefficients,
                    [scales.counts, scales.first, scales.second],
                    self.allocation,
                )
                prec_chol = _precision_cholesky(params.covariances, ct)
            if np.all(np.isfinite(mus)):
                multipliers[t] = 1.0 / mus
            new = self._iteration(
                X, box, params, prec_chol, radius, multipliers[t], rng
            )
            shifts_sq = _whitened_shift_sq(params, prec_chol, new, ct)
            params = new
            self._print_iteration(t + 1)
        return params, multipliers

    def _schedule(self):
        """Number of active components in each iteration (public)."""
        if self.init_params == "split" and not self._user_init_given():
            return split_schedule(self.n_components, self.max_iter)
        return np.full(self.max_iter, self.n_components)

    def _user_init_given(self):
        return not (
            self.weights_init is None
            and self.means_init is None
            and self.precisions_init is None
        )

    def _calibrate(self):
        """Total GDP parameter of the fit for the requested (epsilon, delta)."""
        mu = gdp_from_epsilon_delta(self.epsilon, self.delta)
        return mu * (1.0 - _CALIBRATION_MARGIN)

    def _describe(self):
        return (
            f"DPGaussianMixture(n_components={self.n_components}, "
            f"covariance_type={self.covariance_type!r}, epsilon={self.epsilon})"
        )

    def _box(self, X):
        if self.bounds is None:
            warnings.warn(
                "bounds=None: the clipping box is read from the data, so the "
                "fitted model is NOT differentially private. Pass public "
                "bounds=(lower, upper) chosen without looking at the data.",
                PrivacyLeakWarning,
                stacklevel=3,
            )
            lower, upper = X.min(axis=0).astype(float), X.max(axis=0).astype(float)
            flat = upper - lower <= 0
            pad = np.maximum(np.abs(lower), 1.0) * 1e-3
            lower, upper = (
                np.where(flat, lower - pad, lower),
                np.where(flat, upper + pad, upper),
            )
        else:
            lower, upper = v.check_bounds(self.bounds, X.shape[1])
        return Box.from_bounds(lower, upper, self.covariance_type)

    def _iteration(self, X, box, params, prec_chol, radius, multipliers, rng):
        """One private EM iteration in normalised units.

        Responsibilities come from ``params`` (already released, with
        precision Cholesky factors ``prec_chol``); deviations from the
        released means are whitened by the released covariances and clipped
        to ``radius``; each group gets Gaussian noise of ``multipliers[g]``
        times its scale.
        """
        ct = self.covariance_type
        stats, whitens = _exact_statistics(X, box, params, radius, ct, prec_chol)
        stds = noise_stds(multipliers, noise_scales(radius))
        noisy = add_noise(stats, stds, ct, rng)
        with serial_blas():
            return m_step(
                noisy,
                params.means,
                whitens,
                ct,
                box.half_widths,
                stds,
                pseudo_count(stds, _PRIOR_STRENGTH),
                self.reg_covar / box.scale**2,
            )

    def _store(self, box, params_z, multipliers, radius):
        ct = self.covariance_type
        params = box.params_to_x(params_z, ct)
        self.weights_ = params.weights
        self.means_ = params.means
        self.covariances_ = params.covariances
        self.precisions_cholesky_ = precision_cholesky(params.covariances, ct)
        self.precisions_ = precisions_from_cholesky(self.precisions_cholesky_, ct)
        self.n_iter_ = self.max_iter
        self.bounds_ = (box.lower, box.upper)
        self.noise_multipliers_ = multipliers
        self.clip_radius_ = radius
        mu = gdp_from_noise_multipliers(multipliers)
        self.epsilon_spent_ = epsilon_from_gdp(mu, self.delta)

    def _estimate_kl(self, X, box):
        reference = GaussianMixture(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            random_state=KL_SEED,
        ).fit(np.clip(X, box.lower, box.upper))
        estimate = kl_mixture_mc(reference, self, KL_N_SAMPLES, random_state=KL_SEED)
        self.kl_to_nonprivate_ = estimate.kl
        self.kl_to_nonprivate_stderr_ = estimate.stderr

    # ------------------------------------------------------------ initialise

    def _initial_params(self, box, user, rng, n_features):
        """Initial parameters in normalised units (public or data-independent).

        ``user`` is the validated user initialisation from ``_user_init``.
        """
        ct, k = self.covariance_type, self.n_components
        if self.init_params == "split" and user is None:
            return MixtureParams(
                np.ones(1),
                np.zeros((1, n_features)),
                broad_covariances(box.half_widths, 1, ct),
            )
        init = random_init(box.half_widths, k, ct, rng)
        if user is None:
            return init
        # Fill the arrays the user did not give from the data-independent
        # start, in data units, then map everything to normalised units.
        start = box.params_to_x(init, ct)
        return box.params_to_z(
            MixtureParams(
                start.weights if user.weights is None else user.weights,
                start.means if user.means is None else user.means,
                start.covariances if user.covariances is None else user.covariances,
            ),
            ct,
        )

    def _user_init(self, n_features):
        """Validated user initialisation in data units, or None."""
        if not self._user_init_given():
            return None
        k, d, ct = self.n_components, n_features, self.covariance_type
        weights = means = covariances = None
        if self.weights_init is not None:
            weights = _check_weights(self.weights_init, k)
        if self.means_init is not None:
            means = _check_array_shape(self.means_init, (k, d), "means_init")
        if self.precisions_init is not None:
            covariances = _check_precisions(self.precisions_init, ct, k, d)
        return MixtureParams(weights, means, covariances)

    # ------------------------------------------------------------- verbose

    def _print_start(self, mu_total):
        if self.verbose >= 1:
            print(
                f"Private EM: {self.max_iter} iterations, epsilon={self.epsilon}, "
                f"delta={self.delta}, mu={mu_total:.4g}"
            )

    def _print_iteration(self, n_iter):
        if self.verbose >= 2 and n_iter % self.verbose_interval == 0:
            print(f"  Iteration {n_iter}")

    def _print_end(self):
        if self.verbose >= 1:
            print(f"Private EM done: epsilon_spent={self.epsilon_spent_:.6g}")

    # ------------------------------------------------------- after fitting

    def _log_resp_blocks(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return log_resp_blocks(
            X,
            self.weights_,
            self.means_,
            self.precisions_cholesky_,
            self.covariance_type,
        )

    def score_samples(self, X):
        """Log density of each sample under the released model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        return np.concatenate([ln for _, _, ln in self._log_resp_blocks(X)])

    def score(self, X, y=None):
        """Mean log density of the samples under the released model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        log_likelihood : float
        """
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        blocks = [np.exp(w - ln[:, None]) for _, w, ln in self._log_resp_blocks(X)]
        return np.concatenate(blocks)

    def predict(self, X):
        """Most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.concatenate(
            [w.argmax(axis=1) for _, w, _ in self._log_resp_blocks(X)]
        )

    def fit_predict(self, X, y=None):
        """Fit, then label the training samples.

        The labels are computed from the training data after the release and
        are not covered by the privacy guarantee.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, y).predict(X)

    def sample(self, n_samples=1):
        """Draw samples from the released model.

        Parameters
        ----------
        n_samples : int, default=1

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component of each sample; samples are grouped by component.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(
                f"n_samples must be an int >= 1; got {n_samples!r}. "
                "Ask for at least one sample."
            )
        rng = _noise_generator(self.random_state, stream=1)
        counts = rng.multinomial(n_samples, self.weights_)
        k_all, d = self.means_.shape
        covariances = full_covariances(
            self.covariances_, self.covariance_type, k_all, d
        )
        draws, labels = [], []
        for k, n_k in enumerate(counts):
            chol = np.linalg.cholesky(covariances[k])
            draws.append(self.means_[k] + rng.standard_normal((n_k, d)) @ chol.T)
            labels.append(np.full(n_k, k))
        return np.concatenate(draws), np.concatenate(labels)

    def _n_parameters(self):
        k, d = self.means_.shape
        per_cov = {
            "full": k * d * (d + 1) / 2.0,
            "tied": d * (d + 1) / 2.0,
            "diag": k * d,
            "spherical": k,
        }[self.covariance_type]
        return int(per_cov + k * d + k - 1)

    def bic(self, X):
        """Bayesian information criterion of the released model on X.

        On the training data the result is not covered by the guarantee.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        bic : float
        """
        n = np.shape(X)[0]
        return -2 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """Akaike information criterion of the released model on X.

        On the training data the result is not covered by the guarantee.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        aic : float
        """
        return -2 * self.score(X) * np.shape(X)[0] + 2 * self._n_parameters()


def _whitened_shift_sq(old, old_prec_chol, new, covariance_type):
    """Squared Mahalanobis length of each mean's move, under the old covariance
    (whose precision Cholesky factors are ``old_prec_chol``)."""
    k, d = old.means.shape
    whitens = whitening(old_prec_chol, covariance_type, k, d)
    delta = new.means - old.means
    if whitens.ndim == 3:
        u = np.einsum("kd,kde->ke", delta, whitens)
    else:
        u = delta * whitens
    return np.sum(u * u, axis=1)


def _noise_generator(random_state, stream):
    """A numpy Generator from the estimator's ``random_state``.

    ``fit`` draws its noise from stream 0 and ``sample`` from stream 1, so a
    seeded model's synthetic samples never replay the privacy noise. ``None``
    draws fresh entropy from the operating system; a Generator is used as is
    (its state advances, so later calls never repeat earlier draws).
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(0, 2**31 - 1, size=4)
    else:
        seed = random_state
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[stream])


def _precision_cholesky(covariances, covariance_type):
    try:
        return precision_cholesky(covariances, covariance_type)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "A covariance matrix is not positive definite; increase reg_covar "
            "(a positive value such as 1e-6 keeps every covariance invertible)."
        ) from exc


def _exact_statistics(X, box, params, radius, covariance_type, prec_chol=None):
    """Whitened, clipped statistics of normalised X under ``params``.

    ``prec_chol`` are the precision Cholesky factors of ``params`` if already
    known. Returns the statistics and the whitening maps used.
    """
    k, d = params.means.shape
    if prec_chol is None:
        prec_chol = _precision_cholesky(params.covariances, covariance_type)
    stats = empty_statistics(covariance_type, k, d)
    whitens = whitening(prec_chol, covariance_type, k, d)
    blocks = estep_blocks(
        X, params.weights, params.means, prec_chol, covariance_type, box.to_z
    )
    for block in blocks:
        # The E-step's squared Mahalanobis distances are the squared norms of
        # the whitened deviations; they set the clip factors. Its centred rows
        # (and their squares) enter the sums directly.
        accumulate(
            stats,
            block.rows,
            block.resp,
            params.means,
            whitens,
            radius,
            covariance_type,
            block.sq_mahalanobis,
            block.expanded,
        )
        del block  # free this block's arrays before the next is computed
    return stats, whitens


def _check_array_shape(value, shape, name):
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values; got {arr!r}.")
    return arr


def _check_weights(value, k):
    w = _check_array_shape(value, (k,), "weights_init")
    if np.any(w < 0) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            "weights_init must be non-negative and sum to 1; got "
            f"{w!r} (sum {w.sum():.6g}). Normalise it: weights / weights.sum()."
        )
    return w


def _check_precisions(value, covariance_type, k, d):
    """Validate precisions_init; return the matching covariances."""
    shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[
        covariance_type
    ]
    prec = _check_array_shape(value, shape, "precisions_init")
    if covariance_type in ("diag", "spherical"):
        if np.any(prec <= 0):
            raise ValueError(
                f"precisions_init must be positive for covariance_type="
                f"{covariance_type!r}; got {prec!r}."
            )
        return 1.0 / prec
    mats = prec.reshape(-1, d, d)
    if not np.allclose(mats, np.swapaxes(mats, 1, 2)):
        raise ValueError(
            f"precisions_init must be symmetric; got {prec!r}. Pass (A + A.T) / 2."
        )
    eye = np.eye(d)
    try:
        covs = np.stack([linalg.cho_solve(linalg.cho_factor(m), eye) for m in mats])
    except linalg.LinAlgError as exc:
        raise ValueError(
            f"precisions_init must be positive definite; got {prec!r}, which "
            "has a matrix without a Cholesky factor."
        ) from exc
    return covs if covariance_type == "full" else covs[0]
