"""kdl: classic deep-learning architectures as standardized Keras 3 pipelines.

Usage:
    import pipelines
    result = pipelines.run("mnist_convnet")
"""

__version__ = "0.1.0"
