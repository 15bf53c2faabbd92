"""A model paired with a discriminator on its codes, as one Linen module with one params tree."""

import flax.linen as nn


class WithDiscriminator(nn.Module):
    """`model` and `discriminator` side by side: params `{"model": ..., "discriminator": ...}`.

    `__call__`, `encode` and `decode` are the model's (so evaluation and pictures see the model
    unchanged); `discriminate(z [B, L]) -> logits [B, 2]` is the discriminator's. Initialising
    runs the discriminator once on the model's code so that both parameter sets are created.
    """

    model: nn.Module
    discriminator: nn.Module

    def __call__(self, x, *, train: bool = False):
        logits, aux = self.model(x, train=train)
        if self.is_initializing():
            self.discriminator(aux["z"])
        return logits, aux

    def encode(self, x):
        return self.model.encode(x)

    def decode(self, z):
        return self.model.decode(z)

    def discriminate(self, z):
        return self.discriminator(z)
