"""P49's denoising autoencoders as one task of the training core
(`config.task = "experiments.p49_qaoa_autoencoder.task"`).

Data: scikit-learn's 8×8 `load_digits` (pixels / 16 ∈ [0, 1]; `experiments.digits.split`), each
image x corrupted as x̃ = clip(x + σ ε, 0, 1), ε ~ N(0, I), σ = `data.noise_sigma`. Training
draws fresh noise for every batch (from the step's data key); the test images' noise is drawn
once from `PRNGKey(TEST_NOISE_SEED)`, the same ε for every run (so runs are compared on the same
noisy images, paired by seed).

Model (`DenoisingAutoencoder`), images `[B, 8, 8, 1]`:

    encoder  Conv(c1, 3×3, stride 2) ReLU -> 4×4×c1, Conv(c2, 3×3, stride 2) ReLU -> 2×2×c2,
             Dense(n) -> z `[B, n]`
    bottleneck  "quantum": ⟨Z_i⟩ of R_y(z_i) encoding + p layers of `model.ansatz`
                (`bottleneck.py`); "classical": z itself (the CAE)
    decoder  Dense(2·2·c2) ReLU, ConvTranspose(c1, 3×3, stride 2) ReLU -> 4×4×c1,
             ConvTranspose(1, 3×3, stride 2) -> 8×8, sigmoid

Loss: the mean squared error of the decoded noisy image to the clean one, per pixel. The
classical CAE is the same network without the circuit: its parameter count is the QCAE's minus
the circuit's 2p angles (`num_params`; < 1 % of it, the stated tolerance).

Scores on the held-out split: SSIM (`ssim.py`: Gaussian σ 1.5, 7×7 window), PSNR and MSE of the
denoised test images to the clean ones, the same for the noisy inputs themselves (what denoising
has to beat), and the parameter count.
"""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from disentax.errors import UserError
from disentax.train import parallel
from disentax.train.optimizer import make_optimizer
from disentax.train.task import RunKeys, Task, get_field, require_positive, validate_core
from experiments.digits import split
from experiments.p49_qaoa_autoencoder import ssim as ssim_lib
from experiments.p49_qaoa_autoencoder.bottleneck import ANSATZE, GRADIENTS, QuantumBottleneck

BOTTLENECKS = ("quantum", "classical")
TEST_NOISE_SEED = 49
MAX_QUBITS = 12
SIDE = 8


def corrupt(key: jax.Array, x: jax.Array, sigma: float, clip: bool) -> jax.Array:
    """x + σ ε, ε ~ N(0, I) from `key`, clipped to [0, 1] when `clip`."""
    noisy = x + sigma * jax.random.normal(key, x.shape, x.dtype)
    return jnp.clip(noisy, 0.0, 1.0) if clip else noisy


class DenoisingAutoencoder(nn.Module):
    """x̃ `[B, 8, 8, 1]` -> x̂ `[B, 8, 8, 1]` (module docstring)."""

    latent: int
    channels: tuple = (8, 16)
    bottleneck: str = "quantum"
    ansatz: str = "qaoa"
    depth: int = 1
    gradient: str = "autodiff"

    def setup(self):
        c1, c2 = self.channels
        self.conv1 = nn.Conv(c1, (3, 3), strides=2, padding="SAME")
        self.conv2 = nn.Conv(c2, (3, 3), strides=2, padding="SAME")
        self.to_latent = nn.Dense(self.latent)
        if self.bottleneck == "quantum":
            self.circuit = QuantumBottleneck(self.latent, self.ansatz, self.depth, self.gradient)
        self.from_latent = nn.Dense(2 * 2 * c2)
        self.deconv1 = nn.ConvTranspose(c1, (3, 3), strides=(2, 2), padding="SAME")
        self.deconv2 = nn.ConvTranspose(1, (3, 3), strides=(2, 2), padding="SAME")

    def encode(self, x):
        h = nn.relu(self.conv2(nn.relu(self.conv1(x))))
        return self.to_latent(h.reshape(h.shape[0], -1))

    def squeeze(self, z):
        """The bottleneck: ⟨Z_i⟩ of the circuit (quantum) or z itself (classical)."""
        return self.circuit(z) if self.bottleneck == "quantum" else z

    def decode(self, h):
        h = nn.relu(self.from_latent(h)).reshape(h.shape[0], 2, 2, self.channels[1])
        return nn.sigmoid(self.deconv2(nn.relu(self.deconv1(h))))

    def __call__(self, x):
        return self.decode(self.squeeze(self.encode(x)))


def model_of(config: ml_collections.ConfigDict) -> DenoisingAutoencoder:
    m = config.model
    return DenoisingAutoencoder(
        latent=m.latent,
        channels=tuple(m.channels),
        bottleneck=m.bottleneck,
        ansatz=m.ansatz,
        depth=m.depth,
        gradient=m.gradient,
    )


def num_params(params) -> int:
    return int(sum(leaf.size for leaf in jax.tree.leaves(params)))


def count_params(config: ml_collections.ConfigDict) -> int:
    """The model's parameter count, from shapes only (nothing computed)."""
    model = model_of(config)
    shapes = jax.eval_shape(
        lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, SIDE, SIDE, 1)))["params"]
    )
    return num_params(shapes)


def denoise_loss(params, batch, rng, *, model, step):
    """(1/64) Σ_pixels (x̂(x̃) − x)², batch mean -> (loss, {"loss", "mse"})."""
    del rng, step
    recon = model.apply({"params": params}, batch["noisy"])
    mse = jnp.mean((recon - batch["clean"]) ** 2)
    return mse, {"loss": mse, "mse": mse}


def image_scores(denoised, clean) -> dict:
    """SSIM, PSNR (means over images) and MSE of `denoised` to `clean`, `[B, 8, 8, 1]` each."""
    d, c = denoised[..., 0], clean[..., 0]
    return {
        "ssim": jnp.mean(ssim_lib.ssim(d, c)),
        "psnr": jnp.mean(ssim_lib.psnr(d, c)),
        "mse": jnp.mean((d - c) ** 2),
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenoisingTask(Task):
    """The denoising run (module docstring); `arrays` holds the split as device constants."""

    arrays: dict

    def example_inputs(self) -> tuple:
        return (jnp.zeros((1, SIDE, SIDE, 1), jnp.float32),)

    def batch(self, key: jax.Array, step) -> dict:
        """{"clean", "noisy"} `[B, 8, 8, 1]`: `batch_size` training images drawn with replacement
        and their fresh noise, both from `fold_in(key, step)`."""
        index_key, noise_key = jax.random.split(jax.random.fold_in(key, step))
        x = self.arrays["x_train"]
        clean = x[jax.random.randint(index_key, (self.config.batch_size,), 0, x.shape[0])]
        d = self.config.data
        return {"clean": clean, "noisy": corrupt(noise_key, clean, d.noise_sigma, d.clip)}

    @functools.cached_property
    def _scores(self):
        def scores(params):
            clean, noisy = self.arrays["x_test"], self.arrays["x_test_noisy"]
            denoised = self.model.apply({"params": params}, noisy)
            out = {f"eval/test_{k}": v for k, v in image_scores(denoised, clean).items()}
            out |= {f"eval/input_{k}": v for k, v in image_scores(noisy, clean).items()}
            return out

        return jax.jit(scores)

    def scores(self, params, key: jax.Array) -> dict[str, float]:
        """Test SSIM, PSNR, MSE of the denoised and of the noisy test images; the parameter
        count. `key` is unused: the test noise is fixed (module docstring)."""
        del key
        out = {k: float(v) for k, v in self._scores(params).items()}
        return {**out, "eval/num_params": float(num_params(params))}

    def check_member(self, config: ml_collections.ConfigDict) -> None:
        validate(config)


def validate(config: ml_collections.ConfigDict) -> None:
    validate_core(config)
    require_positive(config, ("model.latent", "data.num_test"))
    m = config.model
    if get_field(config, "model.bottleneck") not in BOTTLENECKS:
        raise UserError(f"config field 'model.bottleneck': unknown {m.bottleneck!r}")
    if get_field(config, "model.ansatz") not in ANSATZE:
        raise UserError(f"config field 'model.ansatz': unknown {m.ansatz!r}; known: {ANSATZE}")
    if get_field(config, "model.gradient") not in GRADIENTS:
        raise UserError(f"config field 'model.gradient': unknown {m.gradient!r}")
    if get_field(config, "model.depth") < 0:
        raise UserError(f"config field 'model.depth' must be >= 0, got {m.depth}")
    if m.bottleneck == "quantum" and not 2 <= m.latent <= MAX_QUBITS:
        raise UserError(
            f"config field 'model.latent' (the qubits) must be in [2, {MAX_QUBITS}], got {m.latent}"
        )
    if len(get_field(config, "model.channels")) != 2 or min(m.channels) < 1:
        raise UserError(f"config field 'model.channels' needs two widths >= 1, got {m.channels}")
    if get_field(config, "data.noise_sigma") < 0:
        raise UserError(
            f"config field 'data.noise_sigma' must be >= 0, got {config.data.noise_sigma}"
        )
    get_field(config, "data.clip")


def build(config: ml_collections.ConfigDict) -> DenoisingTask:
    validate(config)
    mesh = parallel.data_mesh()
    parallel.check_batch_size(config.batch_size, mesh)
    d = config.data
    s = split(d.split_seed, num_test=d.num_test)
    x_train = jnp.asarray(s["x_train"]).reshape(-1, SIDE, SIDE, 1)
    x_test = jnp.asarray(s["x_test"]).reshape(-1, SIDE, SIDE, 1)
    noisy = corrupt(jax.random.PRNGKey(TEST_NOISE_SEED), x_test, d.noise_sigma, d.clip)
    arrays = {"x_train": x_train, "x_test": x_test, "x_test_noisy": noisy}
    return DenoisingTask(
        config=config,
        model=model_of(config),
        objective_fn=denoise_loss,
        tx=make_optimizer(config),
        mesh=mesh,
        keys=RunKeys.from_seed(config.seed),
        arrays=arrays,
    )
