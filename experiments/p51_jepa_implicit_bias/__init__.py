"""P51, How JEPA Avoids Noisy Features (Littwin et al., NeurIPS 2024): deep linear JEPA vs MAE."""
