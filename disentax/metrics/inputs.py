"""Input checks shared by every public metric (arrays, options, class counts, sklearn for
`mode="reference"`), and the equal-width binning of continuous columns.

Each metric checks its inputs at its Python entry, before anything is traced, and raises a
one-line `UserError` that says what was wrong and what is allowed. Shapes and dtypes are known
under `jax.jit`/`jax.vmap` and always checked; values (NaN / Inf, whether float factors hold
integers) only where the array is concrete: a tracer's values are unknown, so a metric under
tracing checks its factors by dtype alone (integer or bool; float factors need
`discretize_factors=` there, or a cast to int before the call).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from disentax.errors import UserError

_INT32_LIMIT = 2**31  # integer-valued float factors become int32 labels


def describe(x) -> str:
    """A short account of a wrong input for an error message: its type, dtype or value."""
    if x is None:
        return "None"
    if isinstance(x, str | bytes):
        text = repr(x)
        return f"the string {text[:40] + '…' if len(text) > 40 else text}"
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return f"an array of dtype {x.dtype} and shape {tuple(x.shape)}"
    return f"a value of type {type(x).__name__}"


def as_array(name: str, x):
    """`x` as a JAX array of real numbers (bool, integer or float); a tracer passes through.

    Strings, None, objects, ragged nesting and complex numbers get a one-line `UserError`."""
    array = x
    if not isinstance(x, jax.Array | np.ndarray):
        try:
            array = np.asarray(x)
        except (TypeError, ValueError):  # ragged lists, objects numpy cannot hold
            array = None
    if array is None or np.dtype(array.dtype).kind not in "biuf":
        raise UserError(f"{name} must be an array of real numbers, got {describe(x)}")
    return jnp.asarray(array)


def matrix(name: str, x, min_rows: int = 0):
    """`as_array(x)`, which must be 2-D `[N, columns]` with N ≥ `min_rows`."""
    x = as_array(name, x)
    if x.ndim != 2:
        raise UserError(f"{name} must be 2-D [N, columns], got shape {tuple(x.shape)}")
    if x.shape[0] < min_rows:
        raise UserError(f"{name} need at least {min_rows} sample(s) N, got shape {x.shape}")
    return x


def same_samples(a_name: str, a, b_name: str, b) -> None:
    """A one-line `UserError` unless `a` and `b` have the same number of rows N."""
    if a.shape[0] != b.shape[0]:
        raise UserError(
            f"{a_name} and {b_name} need the same number of samples N, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )


def require_finite(name: str, x) -> None:
    """A one-line `UserError` if concrete `x` holds NaN or ±Inf (a tracer is not checked; a
    numpy array is checked by numpy, without a device round trip)."""
    if isinstance(x, jax.core.Tracer):
        return
    finite = np.isfinite(x).all() if isinstance(x, np.ndarray) else jnp.all(jnp.isfinite(x))
    if not bool(finite):
        raise UserError(f"{name} contain NaN or Inf (as {x.dtype}); metrics need finite values")


def positive_int(name: str, value, what: str = "static under jit") -> int:
    """`value` if it is a positive Python int, else a one-line `UserError`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"{name} must be a positive Python int ({what}), got {value!r}")
    return value


def codes_matrix(name: str, x, min_rows: int = 0):
    """Codes `[N, L]` (N ≥ `min_rows`) as floats of at least 32 bits (integers and half
    precision converted: LAPACK has no half-precision kernels), finite where concrete."""
    # float32 numpy codes are checked on the host: the values of their device copy
    host = x if isinstance(x, np.ndarray) and x.dtype == np.float32 else None
    x = matrix(name, x, min_rows)
    if not jnp.issubdtype(x.dtype, jnp.floating) or x.dtype.itemsize < 4:
        x = x.astype(jnp.float32)
    require_finite(name, x if host is None else host)
    return x


def discrete_factors(metric: str, name: str, factors, hint: str):
    """Factors `[N, K]` as labels: an integer or bool dtype as it is; float values that are all
    integers (e.g. 0., 1., 2. stored as float32) as int32 where concrete; any other float
    factors (non-integer values, ±Inf / NaN, beyond int32, or traced) get a one-line
    `UserError` ending in `hint` (how this metric takes continuous factors)."""
    factors = matrix(name, factors)
    if not jnp.issubdtype(factors.dtype, jnp.floating):
        return factors
    if isinstance(factors, jax.core.Tracer):
        raise UserError(
            f"{metric} needs integer (discrete) {name}, got traced {factors.dtype} values "
            f"(under jit/vmap the dtype must be integer: cast them, or {hint})"
        )
    values = np.asarray(factors)
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < _INT32_LIMIT)
    if not whole.all():
        example = values[~whole].flat[0]
        raise UserError(
            f"{metric} needs integer (discrete) {name}, got {factors.dtype} values such as "
            f"{example:.6g}; {hint}"
        )
    return factors.astype(jnp.int32)


def sample_inputs(
    metric: str,
    codes,
    factors,
    *,
    min_codes: int = 1,
    factors_name: str = "factors",
    discretize_factors: int | None = None,
    num_bins: int | None = None,
    hint: str = "pass discretize_factors=NUM_BINS to bin continuous factors into equal-width bins",
):
    """Codes `[N, L]` (L ≥ `min_codes`, float, finite) and discrete factors `[N, K]` (K ≥ 1),
    N ≥ 1, and `num_bins` (when given) a positive Python int, checked as above with one-line
    `UserError`s naming `metric` (`hint`: how the metric takes continuous factors). With
    `discretize_factors=B` the factors may take any real values: each column is binned into
    B equal-width bins over its sample range (`equal_width_bins`, labels 1..B), as the codes
    are. Returns (codes, factors)."""
    if num_bins is not None:
        positive_int("num_bins", num_bins)
    codes = codes_matrix("codes", codes)
    if discretize_factors is None:
        factors = discrete_factors(metric, factors_name, factors, hint)
    else:
        positive_int("discretize_factors", discretize_factors)
        factors = codes_matrix(factors_name, factors)
    same_samples("codes", codes, factors_name, factors)
    if codes.shape[0] < 1:
        raise UserError(f"{metric} needs at least one sample, got N = 0")
    if codes.shape[1] < min_codes or factors.shape[1] < 1:
        raise UserError(
            f"{metric} needs at least {min_codes} code dimension(s) and one factor, got codes "
            f"of shape {codes.shape} and {factors_name} of shape {factors.shape}"
        )
    if discretize_factors is not None:
        factors = equal_width_bins(factors, discretize_factors)
    return codes, factors


SPLIT_HINT = "bin continuous factors first, with the same bin edges for both splits"


def split_inputs(
    metric: str,
    codes,
    factors,
    test_codes,
    test_factors,
    *,
    min_codes: int = 1,
    continuous_factors: bool = False,
    hint: str = SPLIT_HINT,
):
    """Codes `[N, L]`, factors `[N, K]`, test_codes `[M, L]`, test_factors `[M, K]` checked
    as `sample_inputs` (at least `min_codes` codes, one factor and 2 samples per split);
    factors discrete (`discrete_factors`, `hint` saying how this metric takes continuous ones),
    or any finite reals with `continuous_factors`. Returns them as (float32, int32, float32,
    int32) arrays, the factors float32 when continuous."""
    codes, test_codes = codes_matrix("codes", codes), codes_matrix("test_codes", test_codes)
    if continuous_factors:
        factors = codes_matrix("factors", factors)
        test_factors = codes_matrix("test_factors", test_factors)
    else:
        factors = discrete_factors(metric, "factors", factors, hint)
        test_factors = discrete_factors(metric, "test_factors", test_factors, hint)
    same_samples("codes", codes, "factors", factors)
    same_samples("test_codes", test_codes, "test_factors", test_factors)
    if test_codes.shape[1] != codes.shape[1] or test_factors.shape[1] != factors.shape[1]:
        raise UserError(
            f"test_codes / test_factors need the columns of codes / factors, got "
            f"{test_codes.shape[1]} / {test_factors.shape[1]} for {codes.shape[1]} / "
            f"{factors.shape[1]}"
        )
    if codes.shape[1] < min_codes or factors.shape[1] < 1 or min(len(codes), len(test_codes)) < 2:
        raise UserError(
            f"{metric} needs at least {min_codes} code dimension(s), one factor and 2 samples per "
            f"split, got codes {codes.shape} and test_codes {test_codes.shape}, factors "
            f"{factors.shape}"
        )
    labels = jnp.float32 if continuous_factors else jnp.int32
    return (
        codes.astype(jnp.float32),
        factors.astype(labels),
        test_codes.astype(jnp.float32),
        test_factors.astype(labels),
    )


def interventional_inputs(metric: str, dataset, representation_fn, rng) -> None:
    """One-line `UserError`s unless `dataset` is a ground-truth dataset (`factor_sizes`,
    `observation_shape`, `sample_factors`, `observations_from_factors`), `representation_fn`
    is callable and `rng` is a JAX PRNG key (`jax.random.key` or a uint32 `PRNGKey` [2])."""
    needed = ("factor_sizes", "observation_shape", "sample_factors", "observations_from_factors")
    if not all(hasattr(dataset, attribute) for attribute in needed):
        raise UserError(
            f"{metric} needs a ground-truth dataset (e.g. disentax.data.get('dsprites_procedural'))"
            f", got {describe(dataset)}"
        )
    if not callable(representation_fn):
        raise UserError(
            f"{metric} needs representation_fn, a function images [B, H, W, C] -> codes [B, L], "
            f"got {describe(representation_fn)}"
        )
    dtype = getattr(rng, "dtype", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    raw = dtype == np.uint32 and tuple(getattr(rng, "shape", ())) == (2,)
    if not ((typed and rng.shape == ()) or raw):
        raise UserError(
            f"{metric} needs rng, one JAX PRNG key (jax.random.key(0) or jax.random.PRNGKey(0)), "
            f"got {describe(rng)}"
        )


def class_counts(metric, x, counts, name="num_classes"):
    """Distinct values per column of `x` `[N, K]` (factors, or discrete codes) as static ints:
    from the values of `x` outside jit, else from `counts` (an int or one int per column), the
    argument `name` of `metric`."""
    k = x.shape[1]
    if counts is None:
        if isinstance(x, jax.core.Tracer):
            raise UserError(
                f"{metric} under jit/vmap with traced inputs needs {name}= (the number of "
                f"distinct values of each column, static); or pass the inputs unbatched"
            )
        values = np.asarray(x)
        return tuple(len(np.unique(values[:, j])) for j in range(k))
    counts = (counts,) * k if isinstance(counts, int) else tuple(counts)
    if len(counts) != k or not all(isinstance(c, int) and c >= 1 for c in counts):
        raise UserError(f"{name} must be a positive int or {k} positive ints, got {counts!r}")
    return counts


def require_sklearn(metric):
    """The sklearn module for `mode="reference"`, or a one-line `UserError` saying how to get it."""
    try:
        import sklearn  # noqa: F401
    except ImportError as error:
        raise UserError(
            f'{metric} with mode="reference" needs scikit-learn: pip install scikit-learn'
        ) from error
    return sklearn


def check_choice(name, value, allowed):
    """A one-line `UserError` unless `value` is one of `allowed`."""
    if value not in allowed:
        raise UserError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


@functools.partial(jax.jit, static_argnames="num_bins")
def equal_width_bins(x, num_bins: int):
    """Bin each column of float `x [N, C]` into `num_bins` equal-width bins over its sample
    range: `-> int32 [N, C]` in 1..num_bins.

    Per column: edges e_i = min + i·(max − min)/num_bins for i = 0..num_bins−1 and
    bin(x_n) = #{i : e_i ≤ x_n}, i.e. disentanglement_lib's
    `np.digitize(x, np.histogram(x, num_bins)[1][:-1])`; a constant column gets numpy's range
    [x − ½, x + ½]. Edges are computed in the dtype of `x`, so a value within an ulp of an edge
    may land in the neighbouring bin.
    """
    lo, hi = jnp.min(x, axis=0), jnp.max(x, axis=0)
    constant = lo == hi
    lo = jnp.where(constant, lo - 0.5, lo)
    hi = jnp.where(constant, hi + 0.5, hi)
    step = (hi - lo) / num_bins
    edges = lo + jnp.arange(num_bins, dtype=x.dtype)[:, None] * step  # [B, C]
    # the definition itself, #{i : e_i ≤ x}: num_bins compares per value, fused into one pass
    return jnp.sum(edges[:, None, :] <= x[None], axis=0, dtype=jnp.int32)
