"""The conv family's builders, one module per architecture: the lecture MNIST convnet and a
configurable convnet (basic), VGG (vgg), Inception modules and a small Inception network
(inception), ResNet's basic and bottleneck blocks with the ImageNet and CIFAR families
(resnet), and the training-only augmentation layers they share (augment).

Usage:
    from kdl.models.conv import vgg16, resnet, cifar_resnet
    vgg16().count_params()                       # 138,357,544, as the lecture's table
    cifar_resnet((32, 32, 3), 10, depth=20)      # about 0.27M parameters
"""

from kdl.models.conv.augment import augmentation
from kdl.models.conv.basic import conv_block, conv_stack, convnet, lecture_mnist_convnet
from kdl.models.conv.inception import (
    downsample_module,
    inception_factorized,
    inception_naive,
    inception_reduced,
    inception_simple,
    inception_small,
)
from kdl.models.conv.resnet import cifar_resnet, resnet, resnet_basic_block, resnet_bottleneck_block
from kdl.models.conv.vgg import vgg, vgg16, vgg19, vgg_block

__all__ = ["augmentation", "cifar_resnet", "conv_block", "conv_stack", "convnet",
           "downsample_module", "inception_factorized", "inception_naive", "inception_reduced",
           "inception_simple", "inception_small", "lecture_mnist_convnet", "resnet",
           "resnet_basic_block", "resnet_bottleneck_block", "vgg", "vgg16", "vgg19", "vgg_block"]
