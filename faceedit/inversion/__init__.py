"""GAN inversion: find the latent of an image (projection), then edit it."""
