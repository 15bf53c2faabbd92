"""Pictures of representations: reconstructions and latent traversals."""

from disentax.viz.images import image_grid, reconstruction_grid, save_png

__all__ = ["image_grid", "reconstruction_grid", "save_png"]
