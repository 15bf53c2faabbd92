"""What each stored dataset is: its factor grid in storage order, observation shape, source files
and their home, nuisance factors; and the version of the prepared format."""

import dataclasses

VERSION = "1.0.0"


@dataclasses.dataclass(frozen=True)
class Spec:
    """A dataset built from files the user obtains, in storage order (row-major, last fastest).

    `factor_names`/`factor_sizes` include the `nuisances`: factors that are stored but drawn at
    random when observations are requested, as disentanglement_lib does (smallnorb's instance).
    """

    name: str
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    observation_shape: tuple[int, int, int]
    files: tuple[str, ...]
    home: str
    nuisances: tuple[str, ...] = ()


_MPI3D_NAMES = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "horizontal_axis",
    "vertical_axis",
)
_MPI3D_HOME = "https://storage.googleapis.com/disentanglement_dataset/Final_Dataset/"
_NORB = "smallnorb-5x{}x9x18x6x2x96x96-{}-{}.mat"
_NVLABS = "https://github.com/NVlabs/High-res-disentanglement-datasets"

SPECS = {
    spec.name: spec
    for spec in (
        Spec(
            "dsprites",
            ("shape", "scale", "orientation", "pos_x", "pos_y"),
            (3, 6, 40, 32, 32),
            (64, 64, 1),
            ("dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",),
            "https://github.com/google-deepmind/dsprites-dataset",
        ),
        Spec(
            "shapes3d",
            ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"),
            (10, 10, 10, 8, 4, 15),
            (64, 64, 3),
            ("3dshapes.h5",),
            "https://storage.googleapis.com/3d-shapes/3dshapes.h5",
        ),
        Spec(
            "smallnorb",
            ("category", "instance", "elevation", "azimuth", "lighting"),
            (5, 10, 9, 18, 6),
            (64, 64, 1),
            tuple(
                _NORB.format(ids, part, kind)
                for ids, part in (("46789", "training"), ("01235", "testing"))
                for kind in ("dat", "cat", "info")
            ),
            "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/ (the .mat or .mat.gz files)",
            nuisances=("instance",),
        ),
        *(
            Spec(
                f"mpi3d_{variant}",
                _MPI3D_NAMES,
                (*colours_shapes, 2, 3, 3, 40, 40),
                (64, 64, 3),
                (f"mpi3d_{variant}.npz",),
                f"{_MPI3D_HOME}mpi3d_{variant}.npz",
            )
            for variant, colours_shapes in (
                ("toy", (4, 4)),
                ("realistic", (4, 4)),
                ("real", (6, 6)),
            )
        ),
        Spec(
            "cars3d",
            ("elevation", "azimuth", "object"),
            (4, 24, 183),
            (64, 64, 3),
            ("nips2015-analogy-data.tar.gz",),
            "http://www.scottreed.info/files/nips2015-analogy-data.tar.gz "
            "(the archive, or its extracted data/cars/ directory)",
        ),
        Spec(
            "falcor3d",
            (
                "lighting_intensity",
                "lighting_x",
                "lighting_y",
                "lighting_z",
                "camera_x",
                "camera_y",
                "camera_z",
            ),
            (5, 6, 6, 6, 6, 6, 6),
            (64, 64, 3),
            ("Falcor3D_down128/",),
            f"{_NVLABS} (Falcor3D_128x128, extracted)",
        ),
        Spec(
            "isaac3d",
            (
                "object_shape",
                "robot_x",
                "robot_y",
                "camera_height",
                "object_scale",
                "lighting_intensity",
                "lighting_y",
                "object_color",
                "wall_color",
            ),
            (3, 8, 5, 4, 4, 4, 6, 4, 4),
            (64, 64, 3),
            ("Isaac3D_down128/",),
            f"{_NVLABS} (Isaac3D_128x128, extracted)",
        ),
    )
}
