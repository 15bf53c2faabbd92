"""Evaluation of a run: held-out losses, the configured metrics of its mean and sampled
representations (as disentanglement_lib scores both), and pictures."""

import functools
import pathlib
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from disentax import data, viz
from disentax.errors import UserError
from disentax.metrics import suite
from disentax.metrics.reconstruction import psnr
from disentax.models.latents import gaussian_sample
from disentax.train import parallel
from disentax.train.state import TrainState
from disentax.train.task import EVAL_SEED, write_metrics

if TYPE_CHECKING:
    from disentax.train.build import Run

FIGURES_DIR = "figures"
DCI_METRICS = ("dci", "dci_random_forest")  # suite metrics whose importance matrix is drawn
REPRESENTATIONS = ("mean", "sampled")  # the codes evaluation scores (see `codes`)


def parse_representations(text: str) -> tuple[str, ...]:
    """ "mean,sampled" -> ("mean", "sampled"): `eval.representations`, checked."""
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    if not kinds or any(k not in REPRESENTATIONS for k in kinds):
        raise UserError(
            f"config field 'eval.representations' takes a comma-separated subset of "
            f"{', '.join(REPRESENTATIONS)}, got {text!r}"
        )
    return kinds


@functools.partial(jax.jit, static_argnames=("model", "kind"))
def codes(params, images, key, *, model, kind: str):
    """The representation `kind` of `images [B, H, W, C]`: "mean" is `model.encode(x)[0]`, the
    model's deterministic representation (a Gaussian encoder's μ, a quantized latent's values or
    codes); "sampled" is z = μ + exp(logvar / 2)·ε with ε ~ N(0, I) drawn from `key` folded with
    the images' checksum, so every batch gets its own noise."""
    if kind == "mean":
        return model.apply({"params": params}, images, method=model.encode)[0]
    _, aux = model.apply({"params": params}, images)
    checksum = jax.lax.bitcast_convert_type(jnp.sum(images * 1e3), jnp.uint32)
    eps = jax.random.normal(jax.random.fold_in(key, checksum), aux["mu"].shape, aux["mu"].dtype)
    return gaussian_sample(aux["mu"], aux["logvar"], eps)


def representation_kinds(run: "Run", params) -> tuple[str, ...]:
    """The kinds named in `eval.representations` that the model has ("sampled" needs a
    Gaussian encoder: an aux `logvar`)."""
    kinds = parse_representations(run.config.eval.representations)
    x = jnp.zeros((1, *run.dataset.observation_shape), jnp.float32)
    aux = jax.eval_shape(lambda p: run.model.apply({"params": p}, x)[1], params)
    return tuple(k for k in kinds if k == "mean" or "logvar" in aux)


def representation(run: "Run", params, key: jax.Array, num_samples: int, kinds=("mean",)):
    """`num_samples` i.i.d. images encoded: ({kind: codes `[N, L]`}, factors `[N, K]`)."""
    batch_size = run.config.eval.batch_size
    codes_by_kind = {k: [] for k in kinds}
    factors = []
    for i in range(-(-num_samples // batch_size)):
        data_key, noise_key = jax.random.split(jax.random.fold_in(key, i))
        x, f = data.sample(run.dataset, data_key, batch_size)
        for kind in kinds:
            codes_by_kind[kind].append(codes(params, x, noise_key, model=run.model, kind=kind))
        factors.append(f)
    return (
        {k: np.concatenate(v)[:num_samples] for k, v in codes_by_kind.items()},
        np.concatenate(factors)[:num_samples],
    )


def metric_scores(run: "Run", params, key: jax.Array, names=None) -> dict[str, float]:
    """`eval/<metric>` (mean representation) and `eval/sampled/<metric>` for the metrics `names`
    (default `eval.metrics`): sample metrics on `eval.num_samples` images, split metrics also on
    `eval.num_test_samples` held-out ones, interventional ones through the representation at
    sizes derived from those two (`suite.interventional_sizes`)."""
    return metric_results(run, params, key, names)[0]


def metric_results(run: "Run", params, key: jax.Array, names=None) -> tuple[dict, dict]:
    """(`metric_scores`, `{metric: suite.outputs(...)[metric]}`: the full results whose matrices
    `pictures` draws), each metric fitted once per representation. The full results are the mean
    representation's, or the first configured kind's when "mean" is not among
    `eval.representations`."""
    ev = run.config.eval
    names = suite.parse_names(names or ev.metrics)
    kinds = representation_kinds(run, params)
    train_key, test_key, noise_key, metric_key = jax.random.split(key, 4)
    needs = suite.needs(names)
    inputs = {kind: {} for kind in kinds}
    if needs & {suite.SAMPLE, suite.CODES, suite.SPLIT}:
        by_kind, factors = representation(run, params, train_key, ev.num_samples, kinds)
        for kind in kinds:
            inputs[kind].update(codes=by_kind[kind], factors=factors)
    if suite.SPLIT in needs:
        by_kind, factors = representation(run, params, test_key, ev.num_test_samples, kinds)
        for kind in kinds:
            inputs[kind].update(test_codes=by_kind[kind], test_factors=factors)
    if suite.INTERVENTIONAL in needs:
        for kind in kinds:
            inputs[kind].update(
                dataset=run.dataset,
                representation_fn=functools.partial(
                    codes, params, key=noise_key, model=run.model, kind=kind
                ),
                rng=metric_key,
            )
    drawn = "mean" if "mean" in kinds else kinds[0]
    results = {}
    for kind in kinds:
        prefix = "eval/" if kind == "mean" else f"eval/{kind}/"
        outputs = suite.outputs(
            names,
            num_bins=ev.num_bins,
            num_samples=ev.num_samples,
            num_test_samples=ev.num_test_samples,
            **inputs[kind],
        )
        results.update({prefix + k: v for k, v in suite.scalars(outputs).items()})
        if kind == drawn:
            drawn_outputs = outputs
    return results, drawn_outputs


def held_out_losses(run: "Run", params, key: jax.Array, num_batches: int = 4) -> dict[str, float]:
    """The objective's metrics averaged over `num_batches` fresh batches of the train batch size."""
    losses = jax.jit(lambda p, batch, rng: run.loss_fn(p, batch, rng, step=0)[1])
    values = []
    for i in range(num_batches):
        data_key, loss_key = jax.random.split(jax.random.fold_in(key, i))
        x, f = data.sample(run.dataset, data_key, run.config.batch_size)
        values.append(losses(params, {"image": x, "factors": f}, loss_key))
    values = jax.device_get(values)
    return {k: float(np.mean([v[k] for v in values])) for k in values[0]}


def reconstruction_psnr(run: "Run", params, key: jax.Array, num_batches: int = 4) -> float:
    """Mean over `num_batches` fresh batches (the train batch size; the images of
    `held_out_losses` for the same key) of the per-image `metrics.psnr` of x̂ = sigmoid(logits),
    the model's deterministic reconstruction, against x (dB; the QLAE paper's PSNR)."""
    reconstruct = jax.jit(
        lambda p, x: psnr(jax.nn.sigmoid(run.model.apply({"params": p}, x)[0]), x)
    )
    values = []
    for i in range(num_batches):
        data_key, _ = jax.random.split(jax.random.fold_in(key, i))
        x, _ = data.sample(run.dataset, data_key, run.config.batch_size)
        values.append(reconstruct(params, x))
    return float(np.mean(np.concatenate(jax.device_get(values))))


def pictures(
    run: "Run",
    params,
    key: jax.Array,
    workdir: pathlib.Path,
    metric_outputs: dict | None = None,
    writer=None,
    step=None,
) -> dict:
    """`viz.model_figures` on `eval.batch_size` images (the first `eval.num_images` shown;
    traversals over ±`eval.traversal_range` in `eval.traversal_steps` steps) and the heatmaps of
    the metrics already computed (`metric_results`' second value, `{metric: its full result}`, of
    the mean representation when it is configured): InfoMEC's NMI ("nmi_heatmap") when infomec
    is among them, and each DCI variant's importance matrix ("<dci name>_importance_heatmap")
    when dci or dci_random_forest is; written to `workdir/figures/` and, with a `writer`, to
    TensorBoard as `figures/<name>` at `step`. Returns the figures."""
    ev = run.config.eval
    image_key, figure_key = jax.random.split(key)
    x, _ = data.sample(run.dataset, image_key, max(ev.batch_size, ev.num_images))
    figures = viz.model_figures(
        run.model,
        params,
        x,
        key=figure_key,
        num_images=ev.num_images,
        traversal_range=ev.traversal_range,
        traversal_steps=ev.traversal_steps,
    )
    metric_outputs = metric_outputs or {}
    factor_names = list(run.dataset.factor_names)
    if "infomec" in metric_outputs:
        nmi = metric_outputs["infomec"]["nmi"]
        figures["nmi_heatmap"] = viz.nmi_heatmap(nmi, factor_names)
    for name in DCI_METRICS:
        if name in metric_outputs:
            importance = metric_outputs[name]["importance"]
            figures[f"{name}_importance_heatmap"] = viz.importance_heatmap(importance, factor_names)
    viz.write_figures(figures, workdir / FIGURES_DIR)
    if writer is not None:
        images = viz.images_of(figures)
        writer.write_images(step, {f"figures/{n}": v for n, v in images.items()})
    return figures


def evaluate(
    run: "Run",
    state: TrainState,
    workdir: pathlib.Path,
    train_metrics: dict[str, float] | None = None,
    metric_names=None,
    writer=None,
) -> dict[str, float]:
    """Writes `metrics.json` (final train losses, `eval/` losses, the metrics `metric_names` —
    default `eval.metrics` — of each configured representation) and the `pictures` (also to
    TensorBoard with a `writer`). The metrics are scored on `PRNGKey(EVAL_SEED)`, as a sweep
    scores its members (`sweep.evaluate_population`), so a run and the same model trained in a
    sweep get the same scores; the losses and pictures use the run's eval stream."""
    params = state.params
    loss_key, picture_key = (jax.random.fold_in(run.keys.eval, i) for i in (1, 2))
    results = {"step": int(state.step), **(train_metrics or {})}
    results.update({f"eval/{k}": v for k, v in held_out_losses(run, params, loss_key).items()})
    results["eval/psnr"] = reconstruction_psnr(run, params, loss_key)
    scores, outputs = metric_results(run, params, jax.random.PRNGKey(EVAL_SEED), metric_names)
    results.update(scores)
    if jax.process_index() == 0:
        pictures(run, params, picture_key, workdir, outputs, writer, results["step"])
    write_metrics(workdir, results)
    return results


def evaluate_population(
    run: "Run", population, pop, names=None, key: jax.Array | None = None
) -> list[dict]:
    """`eval/...` (and `eval/sampled/...`) metrics of every member, all on one evaluation key
    `key` (default `PRNGKey(EVAL_SEED)`), as disentanglement_lib evaluates every model with the
    same seed: the members' codes of the same images (and, for sampled codes, the same noise),
    so that differences between members — seed and hyperparameter variance, the metrics' rank
    correlations — are the models', not the evaluation sample's, and a member's scores do not
    depend on which other members share its population.

    Row m equals `evaluate.metric_scores(run of member m, its params, key)` for the sample,
    codes and split metrics (the same key split, the same images): each metric runs in one call
    vmapped over the members (`suite.score_population`). Interventional metrics run per member
    through `suite.score` with the same key for every member, at the sizes `eval.num_samples`
    and `eval.num_test_samples` give them (`suite.interventional_sizes`).
    """
    ev = run.config.eval
    names = suite.parse_names(names or ev.metrics)
    members = pop.members
    kinds = representation_kinds(run, population.member(pop, 0).params)
    key = jax.random.PRNGKey(EVAL_SEED) if key is None else key
    train_key, test_key, noise_key, metric_key = jax.random.split(key, 4)
    replicated = parallel.replicated(population.mesh)
    all_codes = {  # replicated, so that every host holds every member's codes
        kind: jax.jit(
            jax.vmap(
                lambda p, x, k, kind=kind: codes(p, x, k, model=run.model, kind=kind),
                in_axes=(0, None, None),
            ),
            out_shardings=replicated,
        )
        for kind in kinds
    }

    def encode(key, n):
        """As `evaluate.representation`: batch i's images and noise from `fold_in(key, i)`."""
        parts, factors = {k: [] for k in kinds}, []
        for i in range(-(-n // ev.batch_size)):
            data_key, batch_noise_key = jax.random.split(jax.random.fold_in(key, i))
            x, f = data.sample(run.dataset, data_key, ev.batch_size)
            x = jax.device_put(x, replicated)
            for kind in kinds:
                parts[kind].append(all_codes[kind](members.params, x, batch_noise_key))
            factors.append(np.asarray(f))
        return (
            {k: jnp.concatenate(v, axis=1)[:, :n] for k, v in parts.items()},
            np.concatenate(factors)[:n],
        )

    sample_names = [n for n in names if suite.SUITE.get(n).kind != suite.INTERVENTIONAL]
    interventional = [n for n in names if suite.SUITE.get(n).kind == suite.INTERVENTIONAL]
    inputs = {kind: {} for kind in kinds}
    if sample_names:
        by_kind, factors = encode(train_key, ev.num_samples)
        for kind in kinds:
            inputs[kind].update(codes=by_kind[kind], factors=factors)
    if suite.SPLIT in suite.needs(names):
        by_kind, test_factors = encode(test_key, ev.num_test_samples)
        for kind in kinds:
            inputs[kind].update(test_codes=by_kind[kind], test_factors=test_factors)
    rows = [{} for _ in range(population.size)]
    for kind in kinds:
        prefix = "eval/" if kind == "mean" else f"eval/{kind}/"
        if sample_names:
            per_member = suite.score_population(sample_names, num_bins=ev.num_bins, **inputs[kind])
            for row, scores in zip(rows, per_member, strict=True):
                row.update({prefix + k: v for k, v in scores.items()})
        for m, row in enumerate(rows if interventional else ()):
            params = population.member(pop, m).params
            scores = suite.score(
                interventional,
                dataset=run.dataset,
                rng=metric_key,
                representation_fn=functools.partial(
                    codes, params, key=noise_key, model=run.model, kind=kind
                ),
                num_samples=ev.num_samples,
                num_test_samples=ev.num_test_samples,
            )
            row.update({prefix + k: v for k, v in scores.items()})
    return rows
