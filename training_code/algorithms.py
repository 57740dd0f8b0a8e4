"""Algorithm implementations: one Trainer per registry name, fitted whole or epoch by epoch.

A Trainer is picklable (its estimator and RNG state), which is what a checkpoint stores.
"""

from __future__ import annotations

import math

import numpy as np

from .catalog import CLASSIFICATION, REGRESSION, task_for
from .errors import UserError
from .hyperparameters import flag
from .model import Model, TargetScaled, XGBoostEstimator

#: A classification label with more distinct values than this fraction of the rows is not a label (most often a
#: feature column, the label being elsewhere): at least 2 rows per class on average.
MAX_CLASS_FRACTION = 0.5


def _depth(value: int):
    return None if value == 0 else value


def _features(value: str):
    return None if value == "all" else value


class Trainer:
    """Fits in one go (``epochs == 1``) unless a subclass iterates."""

    epochs = 1
    iterative = False
    #: hosts training together (train.py sets it); only the DISTRIBUTED_ALGORITHMS see more than one
    hosts = 1

    def __init__(self, algorithm: str, hp: dict, n_cpus: int = 1):
        self.algorithm = algorithm
        self.hp = hp
        self.task = task_for(algorithm, hp)
        self.n_cpus = n_cpus
        self.seed = hp["seed"]
        self.steps: list = []
        self.classes = None
        self.accepts_missing = False
        self.n_features = 0
        self.estimator = None

    # --- preparation -------------------------------------------------------------------------------------
    def prepare(self, features: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit preprocessing (inside the model), encode labels; return transformed training data."""
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import StandardScaler

        self.n_features = features.shape[1]
        self.check_feature_dim()
        has_missing = bool(np.isnan(features).any())
        if has_missing and self.algorithm != "xgboost":
            self.steps.append(SimpleImputer(strategy="mean", keep_empty_features=True))
        self.accepts_missing = has_missing or self.algorithm == "xgboost"
        if flag(self.hp.get("standardize", "false")):
            self.steps.append(StandardScaler())
        x = features
        for step in self.steps:
            x = step.fit_transform(x)
        if self.task == CLASSIFICATION:
            self.fit_classes(labels, len(labels))
        return x, self.encode_labels(labels)

    def encode_labels(self, labels):
        """Labels as the estimator takes them (classification: indices into ``self.classes``)."""
        y = None
        if self.task == CLASSIFICATION:
            y = np.searchsorted(self.classes, labels)
        elif self.task == REGRESSION:
            try:
                y = np.asarray(labels, dtype=np.float64)
            except (TypeError, ValueError):
                raise UserError("regression needs numeric labels in the first column; found text such as "
                                f"{labels[0]!r}") from None
            if np.isnan(y).any():
                raise UserError("the label column has empty values; every training row needs a label")
        return y

    def check_feature_dim(self) -> None:
        expected = self.hp.get("feature_dim", 0)
        if expected and expected != self.n_features:
            raise UserError(f"hyperparameter feature_dim is {expected} but the data has {self.n_features} "
                            "features; fix feature_dim or the data (label first, then the features)")

    def fit_streamed_classes(self, scan) -> None:
        """The classes of a scanned channel (streaming.Scan); refused, on every host alike, when the channel had
        more distinct labels than a scan keeps."""
        from .streaming import DISTINCT_LABELS_KEPT

        more = scan.more_distinct_labels
        if self.hosts > 1:
            from .collective import total

            more = total(int(more)) > 0
        if more:
            raise UserError(f"the label (first column) has more than {DISTINCT_LABELS_KEPT} distinct values: too "
                            "many classes for classification; the label must be the first column, or pick a "
                            "regression algorithm or objective for a continuous target")
        self.fit_classes(scan.distinct_labels, scan.rows)

    def fit_classes(self, labels, rows: int) -> None:
        """The classes from every label value (``labels`` may be the distinct values of ``rows`` rows)."""
        if self.hosts > 1:  # every host must encode the labels alike, whatever its share holds
            from .collective import union

            self.classes = union(labels)
        else:
            self.classes = np.unique(labels)
        if len(self.classes) < 2:
            raise UserError(f"classification needs at least 2 classes in the label column, found "
                            f"{len(self.classes)} ({self.classes[:1].tolist()}); check the label column "
                            "(first column) or pick a regression algorithm")
        if len(self.classes) > max(2, rows * MAX_CLASS_FRACTION):
            raise UserError(f"the label (first column) has {len(self.classes)} distinct values in {rows} "
                            f"rows: too many classes for classification (at most {MAX_CLASS_FRACTION:g} x the "
                            "rows, so each class has 2 rows on average); the label must be the first column, "
                            "or pick a regression algorithm for a continuous target")
        expected = self.hp.get("num_classes", 0)
        if expected and expected != len(self.classes):
            raise UserError(f"hyperparameter num_classes is {expected} but the labels have "
                            f"{len(self.classes)} classes")
        if self.hp.get("predictor_type") == "binary_classifier" and len(self.classes) != 2:
            raise UserError(f"predictor_type binary_classifier needs 2 classes, the labels have "
                            f"{len(self.classes)}; use predictor_type=multiclass_classifier")
        if self.hp.get("objective", "").startswith("binary:") and len(self.classes) != 2:
            raise UserError(f"objective binary:logistic needs 2 classes, the labels have {len(self.classes)}; "
                            "use objective=multi:softprob")


    # --- fitting ---------------------------------------------------------------------------------------
    def build(self):
        raise NotImplementedError

    def fit(self, x, y):
        self.estimator = self.build()
        if y is None:
            self.estimator.fit(x)
        else:
            self.estimator.fit(x, y)

    def run_epoch(self, epoch: int, x, y, rng: np.random.Generator):
        self.fit(x, y)

    def model(self) -> Model:
        return Model(self.task, self.steps, self.final_estimator(), self.classes, self.accepts_missing,
                     self.n_features)

    def final_estimator(self):
        return self.estimator


class Simple(Trainer):
    def __init__(self, algorithm, hp, n_cpus=1, factory=None):
        super().__init__(algorithm, hp, n_cpus)
        self.factory = factory

    def build(self):
        return self.factory(self.hp, self.seed, self.n_cpus)


def _sklearn_factories():
    from sklearn import ensemble, linear_model, naive_bayes, neighbors, svm, tree
    from sklearn.decomposition import PCA

    def knn(hp, seed, cpus):
        cls = neighbors.KNeighborsRegressor if hp["predictor_type"] == "regressor" else neighbors.KNeighborsClassifier
        return cls(n_neighbors=hp["k"], weights=hp["weights"], n_jobs=1)

    return {
        "linear-regression": lambda hp, s, c: linear_model.LinearRegression(fit_intercept=flag(hp["fit_intercept"])),
        "logistic-regression": lambda hp, s, c: linear_model.LogisticRegression(C=hp["C"], max_iter=hp["max_iter"]),
        "ridge": lambda hp, s, c: linear_model.Ridge(alpha=hp["alpha"]),
        "lasso": lambda hp, s, c: linear_model.Lasso(alpha=hp["alpha"], max_iter=hp["max_iter"], random_state=s),
        "elastic-net": lambda hp, s, c: linear_model.ElasticNet(alpha=hp["alpha"], l1_ratio=hp["l1_ratio"],
                                                                 max_iter=hp["max_iter"], random_state=s),
        "random-forest": lambda hp, s, c: ensemble.RandomForestClassifier(
            n_estimators=hp["n_estimators"], max_depth=_depth(hp["max_depth"]),
            min_samples_leaf=hp["min_samples_leaf"], max_features=_features(hp["max_features"]),
            random_state=s, n_jobs=c),
        "random-forest-regressor": lambda hp, s, c: ensemble.RandomForestRegressor(
            n_estimators=hp["n_estimators"], max_depth=_depth(hp["max_depth"]),
            min_samples_leaf=hp["min_samples_leaf"], max_features=_features(hp["max_features"]),
            random_state=s, n_jobs=c),
        "knn": knn,
        "pca": lambda hp, s, c: PCA(n_components=hp["num_components"], random_state=s,
                                    svd_solver="randomized" if hp["algorithm_mode"] == "randomized" else "full"),
        "naive-bayes": lambda hp, s, c: naive_bayes.GaussianNB(var_smoothing=hp["var_smoothing"]),
        "linear-svm": lambda hp, s, c: svm.LinearSVC(C=hp["C"], max_iter=hp["max_iter"], random_state=s),
        "decision-tree": lambda hp, s, c: tree.DecisionTreeClassifier(
            max_depth=_depth(hp["max_depth"]), min_samples_leaf=hp["min_samples_leaf"],
            criterion=hp["criterion"], random_state=s),
        "isolation-forest": lambda hp, s, c: ensemble.IsolationForest(
            n_estimators=hp["num_trees"], max_samples=hp["num_samples_per_tree"],
            contamination=hp["contamination"], random_state=s, n_jobs=c),
    }


class _KNNTrainer(Simple):
    def prepare(self, features, labels):
        x, y = super().prepare(features, labels)
        if x.shape[0] < self.hp["k"]:
            raise UserError(f"hyperparameter k ({self.hp['k']}) must not exceed the number of training rows "
                            f"({x.shape[0]}); lower k or add rows")
        return x, y


class _PCATrainer(Simple):
    def prepare(self, features, labels):
        x, y = super().prepare(features, labels)
        limit = min(x.shape)
        if self.hp["num_components"] > limit:
            raise UserError(f"hyperparameter num_components must be <= {limit} (min of rows and features), "
                            f"got {self.hp['num_components']}")
        return x, y


class _IsolationTrainer(Simple):
    def build(self):
        est = super().build()
        est.max_samples = min(self.hp["num_samples_per_tree"], self._rows)
        return est

    def fit(self, x, y):
        self._rows = x.shape[0]
        super().fit(x, None)


class KMeansTrainer(Trainer):
    iterative = True

    @property
    def epochs(self):
        return self.hp["epochs"]

    def prepare(self, features, labels):
        x, _ = super().prepare(features, labels)
        if x.shape[0] < self.hp["k"]:
            raise UserError(f"hyperparameter k ({self.hp['k']}) must not exceed the number of training rows "
                            f"({x.shape[0]})")
        return x, None

    def run_epoch(self, epoch, x, y, rng):
        from sklearn.cluster import MiniBatchKMeans

        k = self.hp["k"]
        batch = max(self.hp["mini_batch_size"], 3 * k)
        if self.estimator is None:
            init = "k-means++" if self.hp["init_method"] == "kmeans++" else "random"
            self.estimator = MiniBatchKMeans(n_clusters=k, init=init, batch_size=batch, random_state=self.seed,
                                             n_init=3)
        order = rng.permutation(x.shape[0])
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            if self.estimator is not None and not hasattr(self.estimator, "cluster_centers_") and len(chunk) < k:
                chunk = order[:max(k, batch)]
            self.estimator.partial_fit(x[chunk])


class LinearLearnerTrainer(Trainer):
    iterative = True

    @property
    def epochs(self):
        return self.hp["epochs"]

    def prepare(self, features, labels):
        x, y = super().prepare(features, labels)
        self.y_mean, self.y_scale = 0.0, 1.0
        if self.task == REGRESSION:
            self.y_mean = float(np.mean(y))
            self.y_scale = float(np.std(y)) or 1.0
            y = (y - self.y_mean) / self.y_scale
        return x, y

    def prepare_streamed(self, scan, cache_dir):
        """The channel stays on disk: classes from the scan, preprocessing from passes over the batches."""
        from . import linear_streaming

        self.n_features = scan.n_features
        self.check_feature_dim()
        if self.task == CLASSIFICATION:
            self.fit_streamed_classes(scan)
        self.streamed = (scan.source, cache_dir)
        linear_streaming.fit_preprocessing(self, scan.source)
        return None, None

    def run_epoch(self, epoch, x, y, rng):
        if getattr(self, "streamed", None) is not None:
            from . import linear_streaming

            for batch_x, batch_y in linear_streaming.epoch_batches(self, self.streamed[0]):
                self._sgd_epoch(batch_x, batch_y, rng)
            return
        self._sgd_epoch(x, y, rng)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.streamed = None  # train.py sets it again for a streamed channel

    def _sgd_epoch(self, x, y, rng):
        from sklearn.linear_model import SGDClassifier, SGDRegressor

        if self.estimator is None:
            l1, wd = self.hp["l1"], self.hp["wd"]
            alpha = l1 + wd
            common = dict(penalty="elasticnet", alpha=alpha, l1_ratio=(l1 / alpha) if alpha else 0.0,
                          learning_rate="invscaling", eta0=self.hp["learning_rate"], power_t=0.25,
                          random_state=self.seed)
            if self.task == REGRESSION:
                self.estimator = SGDRegressor(**common)
            else:
                self.estimator = SGDClassifier(loss="log_loss", **common)
        batch = self.hp["mini_batch_size"]
        order = rng.permutation(x.shape[0])
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            if self.task == REGRESSION:
                self.estimator.partial_fit(x[chunk], y[chunk])
            else:
                self.estimator.partial_fit(x[chunk], y[chunk], classes=np.arange(len(self.classes)))

    def final_estimator(self):
        if self.task == REGRESSION:
            return TargetScaled(self.estimator, self.y_mean, self.y_scale)
        return self.estimator


class GradientBoostingTrainer(Trainer):
    iterative = True

    @property
    def epochs(self):
        return math.ceil(self.hp["n_estimators"] / self.hp["stages_per_epoch"])

    def run_epoch(self, epoch, x, y, rng):
        from sklearn import ensemble

        if self.estimator is None:
            cls = ensemble.GradientBoostingClassifier if self.task == CLASSIFICATION \
                else ensemble.GradientBoostingRegressor
            self.estimator = cls(n_estimators=0 + 1, learning_rate=self.hp["learning_rate"],
                                 max_depth=self.hp["max_depth"], subsample=self.hp["subsample"],
                                 random_state=self.seed, warm_start=True)
        self.estimator.n_estimators = min(self.hp["n_estimators"], (epoch + 1) * self.hp["stages_per_epoch"])
        self.estimator.fit(x, y)


class XGBoostTrainer(Trainer):
    iterative = True

    @property
    def epochs(self):
        return self.hp["num_round"]

    def params(self) -> dict:
        hp = self.hp
        params = {"objective": hp["objective"], "max_depth": hp["max_depth"], "eta": hp["eta"],
                  "subsample": hp["subsample"], "colsample_bytree": hp["colsample_bytree"],
                  "min_child_weight": hp["min_child_weight"], "gamma": hp["gamma"], "alpha": hp["alpha"],
                  "lambda": hp["lambda"], "seed": self.seed, "nthread": self.n_cpus, "tree_method": "hist"}
        if hp["objective"].startswith("multi:"):
            params["num_class"] = len(self.classes)
        return params

    def prepare_streamed(self, scan, cache_dir):
        """The channel stays on disk: classes from the scan, the matrix from external memory (built lazily,
        and again after a checkpoint restores this trainer)."""
        self.n_features = scan.n_features
        self.check_feature_dim()
        self.accepts_missing = True
        if self.task == CLASSIFICATION:
            self.fit_streamed_classes(scan)
        self.encode_labels(scan.distinct_labels)  # the label checks, once, before the passes over the data
        self.streamed = (scan.source, cache_dir)
        return None, None

    def _matrix(self, x, y):
        import xgboost as xgb

        streamed = getattr(self, "streamed", None)
        if streamed is None:
            return xgb.DMatrix(x, label=y, nthread=self.n_cpus)
        from . import external_memory

        return external_memory.dmatrix(streamed[0], self.encode_labels, streamed[1], self.n_cpus)

    def run_epoch(self, epoch, x, y, rng):
        import xgboost as xgb

        if getattr(self, "_dtrain", None) is None:
            self._dtrain = self._matrix(x, y)
        if self.estimator is None:
            n_classes = 0 if self.classes is None else len(self.classes)
            booster = xgb.Booster(self.params(), [self._dtrain])
            self.estimator = XGBoostEstimator(booster, self.hp["objective"], n_classes)
        self.estimator.booster.update(self._dtrain, iteration=epoch)  # one boosting round, in place

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_dtrain"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.streamed = None  # a restored trainer's cache directory is gone: train.py sets it again


_ITERATIVE = {
    "kmeans": KMeansTrainer,
    "linear-learner": LinearLearnerTrainer,
    "gradient-boosting": GradientBoostingTrainer,
    "gradient-boosting-regressor": GradientBoostingTrainer,
    "xgboost": XGBoostTrainer,
}


def make_trainer(algorithm: str, hp: dict, n_cpus: int = 1) -> Trainer:
    if algorithm in _ITERATIVE:
        return _ITERATIVE[algorithm](algorithm, hp, n_cpus)
    factory = _sklearn_factories()[algorithm]
    cls = {"pca": _PCATrainer, "isolation-forest": _IsolationTrainer, "knn": _KNNTrainer}.get(algorithm, Simple)
    return cls(algorithm, hp, n_cpus, factory)
