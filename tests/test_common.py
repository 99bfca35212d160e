"""scikit-learn's estimator checks over explicit instances.

The song transformers take a 1-D collection of songs (paths, AudioClip) and the
classifier takes 3-D (n_samples, n_frames, n_features) sequences, so the checks
that feed a numeric 2-D matrix cannot apply; each is listed below with its reason,
and what it protects is tested with songs in ``test_song_input_contract``
(tests/test_transformers.py) and with sequences in tests/test_lstm.py.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from viral_sklearn import (
    ChorusExtractor,
    LSTMClassifier,
    MelSpectrogramTransformer,
    MonoMixer,
    PooledMelTransformer,
)

SONGS_NOT_MATRIX = (
    "feeds a numeric 2-D matrix; song transformers take a 1-D collection of songs "
    "(paths or AudioClip) and reject a matrix with a clear error"
)
POOLED_NOT_MATRIX = (
    "feeds a 2-D matrix; PooledMelTransformer takes 3-D (n_samples, n_frames, n_mels) "
    "sequences and rejects 2-D input with a clear error (what the check protects is tested "
    "with sequences in tests/test_pooling.py)"
)
SEQUENCES_NOT_MATRIX = (
    "feeds a 2-D matrix; LSTMClassifier takes 3-D (n_samples, n_frames, n_features) "
    "sequences and rejects 2-D input with a clear error"
)

# checks that feed a numeric matrix to any estimator
MATRIX_CHECKS = [
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]

TRANSFORMER_MATRIX_CHECKS = MATRIX_CHECKS + [
    "check_fit1d",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_transformers_unfitted_stateless",
]

CLASSIFIER_MATRIX_CHECKS = MATRIX_CHECKS + [
    "check_class_weight_balanced_classifiers",  # what the class_weight checks protect: tests/test_class_weight.py
    "check_class_weight_classifiers",
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_one_label_sample_weights",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_estimators_partial_fit_n_features",
    "check_requires_y_none",
    "check_supervised_y_2d",
]

#: matrix checks PooledMelTransformer passes: it refuses 1-D and sparse input with the
#: errors the checks expect, and transform before fit raises NotFittedError
POOLED_PASSES = {
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
    "check_fit1d",
    "check_transformers_unfitted_stateless",
}

CLASSIFIER_SKORCH_CHECKS = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ (inherited design)"
    ),
    "check_set_params": (
        "skorch validates callbacks, verbose, device ... inside set_params and raises TypeError "
        "on the check's odd values (inherited design)"
    ),
}

ESTIMATORS = [
    MonoMixer(),
    ChorusExtractor(clip_length=1.0),
    MelSpectrogramTransformer(duration=0.5),
    LSTMClassifier(max_epochs=2, random_state=0),
    PooledMelTransformer(),
    PooledMelTransformer(statistics=("mean", "max"), percentiles=(10, 90), deltas=True),
]


def expected_failed_checks(estimator):
    if isinstance(estimator, LSTMClassifier):
        failed = dict.fromkeys(CLASSIFIER_MATRIX_CHECKS, SEQUENCES_NOT_MATRIX)
        failed.update(CLASSIFIER_SKORCH_CHECKS)
        return failed
    if isinstance(estimator, PooledMelTransformer):
        return dict.fromkeys(sorted(set(TRANSFORMER_MATRIX_CHECKS) - POOLED_PASSES), POOLED_NOT_MATRIX)
    return dict.fromkeys(TRANSFORMER_MATRIX_CHECKS, SONGS_NOT_MATRIX)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
