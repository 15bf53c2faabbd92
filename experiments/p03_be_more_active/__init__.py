"""P03: Be More Active! (Bonheme & Grześ 2023): passive variables in mean and sampled codes."""
