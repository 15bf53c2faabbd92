"""The components P02's reduced-scale runs add, registered on import (configs name this module in
`config.components`): the 16 × 16 datasets `shapes3d_procedural_16px` and
`dsprites_procedural_16px` (`pooled`) and the `_16px` networks (`NETWORKS_16PX`)."""

import functools

from disentax.data.base import DATASETS
from disentax.data.dsprites import ProceduralDSprites
from disentax.data.shapes3d import ProceduralShapes3D
from disentax.models import MODELS
from disentax.models.qlae import ConvStack


def pooled(base: type, factor: int) -> type:
    """`base` (a procedural dataset class) with its images mean-pooled over `factor` × `factor`
    blocks, named `<base.name>_<pixels>px` (the reduced-scale runs: same factors, a `factor`²
    times cheaper network)."""
    height, width, channels = base.observation_shape

    class Pooled(base):
        name = f"{base.name}_{height // factor}px"
        observation_shape = (height // factor, width // factor, channels)

        def observations_from_factors(self, factors_NxK, rng=None):
            """`base`'s images `[N, H, W, C]` averaged to `[N, H/factor, W/factor, C]`."""
            x = super().observations_from_factors(factors_NxK, rng)
            blocks = (x.shape[0], height // factor, factor, width // factor, factor, channels)
            return x.reshape(blocks).mean(axis=(2, 4))

    return Pooled


REDUCED_DATASETS = tuple(pooled(base, 4) for base in (ProceduralShapes3D, ProceduralDSprites))
for _dataset in REDUCED_DATASETS:
    DATASETS.register(_dataset.name, _dataset)

# Networks for 16 × 16 images whose last encoder map (and the decoder's input map) is 4 × 4, as
# the paper's at 64 × 64 (the `_tiny` latents: VQ-VAE 16 codes of 4). At 16 px the `_tiny`
# encoder ends at 2 × 2, where the per-channel instance norm keeps a normalised pattern of 4
# values (of two uniform regions, only the sign of their contrast), and `_small` at 1 × 1, where
# it keeps nothing: `_small`'s encoder output is the same for every image.
ENCODER_16PX = ConvStack((8, 16, 16), (3, 4, 4), (1, 2, 2), (32,))
DECODER_16PX = ConvStack((16, 16, 8), (4, 4, 3), (2, 2, 1), (32,))
NETWORKS_16PX = (
    "qlae",
    "qlae_global",
    "qlae_vq_vae",
    "qlae_bio_ae",
    "qlae_vae",
    "info_wgan",
    "ql_info_wgan",
)
for _name in NETWORKS_16PX:
    MODELS.register(
        f"{_name}_16px",
        functools.partial(
            MODELS.get(f"{_name}_tiny"), encoder_stack=ENCODER_16PX, decoder_stack=DECODER_16PX
        ),
    )
