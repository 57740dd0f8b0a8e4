"""One SageMaker-compatible container for processing, training, tuning, evaluation and serving.

Light modules (``metrics``, ``catalog``, ``hyperparameters``, ``paths``, ``errors``) import only the
standard library; numpy, pandas, scikit-learn and xgboost load inside the train/serve/process/evaluate
code paths.
"""

__version__ = "1.0.0"
