"""The curriculum's synthetic datasets and CSV loading, seeded.

>>> import losslab as ll
>>> X, y = ll.data.outliers()
>>> X.shape, y.shape
((50, 1), (50,))
>>> "spirals" in ll.data.names()
True
"""

from losslab.data.loading import load_csv
from losslab.data.prep import BiasVariance, Scaler, bias_variance, resample, standardize, train_test_split
from losslab.data.synthetic import (
    OUTLIER_INDEX,
    OUTLIER_SHIFT,
    Dataset,
    DatasetInfo,
    circles,
    get,
    imbalanced,
    info,
    linear,
    multiclass_blobs,
    names,
    outliers,
    spirals,
    two_blobs,
    xor,
)

__all__ = [
    "OUTLIER_INDEX",
    "OUTLIER_SHIFT",
    "BiasVariance",
    "Dataset",
    "DatasetInfo",
    "Scaler",
    "bias_variance",
    "circles",
    "get",
    "imbalanced",
    "info",
    "linear",
    "load_csv",
    "multiclass_blobs",
    "names",
    "outliers",
    "resample",
    "spirals",
    "standardize",
    "train_test_split",
    "two_blobs",
    "xor",
]
