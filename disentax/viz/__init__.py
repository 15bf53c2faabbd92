"""Pictures of representations: traversals, reconstructions, prior samples, heatmaps, reports."""

from disentax.viz.figures import images_of, model_figures, write_figures
from disentax.viz.heatmaps import heatmap, importance_heatmap, nmi_heatmap
from disentax.viz.images import image_grid, reconstruction_grid, save_gif, save_png

__all__ = ["image_grid", "reconstruction_grid", "save_gif", "save_png"]
__all__ += ["heatmap", "importance_heatmap", "nmi_heatmap"]
__all__ += ["images_of", "model_figures", "write_figures"]
