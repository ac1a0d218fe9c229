"""The autoencoder family's builders (dense, deep, convolutional, denoising, LSTM, VAE); the
Keras classes they return live in kdl.models.autoencoder.model.

Usage:
    from kdl.models.autoencoder import conv_autoencoder
    ae = conv_autoencoder((28, 28, 1), code_size=16)
"""

from kdl.models.autoencoder.builders import (
    conv_autoencoder,
    conv_decoder,
    conv_encoder,
    dense_autoencoder,
    dense_decoder,
    dense_encoder,
    lstm_autoencoder,
    variational_autoencoder,
)

__all__ = ["conv_autoencoder", "conv_decoder", "conv_encoder", "dense_autoencoder",
           "dense_decoder", "dense_encoder", "lstm_autoencoder", "variational_autoencoder"]
