"""What the benchmark scripts share: the β-VAE run they time, `--out`, and the JSON result."""

import argparse
import dataclasses
import json
import pathlib

from disentax import config as config_lib
from disentax.train import Run, build

RESULTS = pathlib.Path(__file__).parent / "results"
# disentanglement_lib's β-VAE (conv network, batch 64), whose step the scripts time; the default
# `beta_vae` config is a smaller fully connected network for a first run on a CPU.
DLIB_BETA_VAE = "beta_vae:full"


def add_out_argument(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=RESULTS / f"{name}.json",
        help="where to write the JSON result (default: %(default)s)",
    )


def write_result(out: pathlib.Path, result: dict) -> None:
    """Writes `result` to `out` and prints it as the last line of output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


def beta_vae_run(
    batch_size: int, transposed_conv: str = "subpixel", strided_conv: str = "lax"
) -> Run:
    """disentanglement_lib's β-VAE run at `batch_size`, its decoder's transposed and its
    encoder's strided convolutions in the given formulations (`"subpixel"` or `"lax"`)."""
    config = config_lib.load_config(DLIB_BETA_VAE)
    config.batch_size = batch_size
    run = build(config)
    model = run.model.clone(transposed_conv=transposed_conv, strided_conv=strided_conv)
    return dataclasses.replace(run, model=model)
