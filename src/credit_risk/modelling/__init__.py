"""The modelling package: the local model, the registry model, the preprocessing and the risk bands.

Step names, column names and model interfaces are defined here once; the training and
scoring pipelines and the registry dataset import them.
"""
