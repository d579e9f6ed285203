"""Theory diagnostics: measured checks of GAN results on 1D mixtures with known densities."""
