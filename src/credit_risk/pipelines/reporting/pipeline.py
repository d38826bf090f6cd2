"""Reporting: metrics tables, risk band summary, feature drift and plots of the chosen model."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.reporting import nodes

PARAMS = "params:reporting"
SCORING = "params:scoring"
SAMPLE = "evaluation_sample"  # pulled once, shared by the three evaluation plots


def create_pipeline(**kwargs) -> Pipeline:
    """Tables (rpt_model_metrics, rpt_candidate_comparison, rpt_risk_band_summary,
    rpt_feature_drift) and plotly figures (rpt_roc_curve, rpt_precision_recall,
    rpt_calibration, rpt_feature_importance, rpt_score_distribution), and the model card
    (model_cards: one HTML page per model version, with the scorecard table where one was fitted)."""
    return Pipeline(
        [
            Node(
                nodes.metrics_table,
                ["model_metrics", "candidate_metrics"],
                ["rpt_model_metrics", "rpt_candidate_comparison"],
                name="metrics_table",
            ),
            Node(
                nodes.risk_band_summary,
                ["mo_application_scores", SCORING],
                "rpt_risk_band_summary",
                name="risk_band_summary",
            ),
            Node(
                nodes.drift_reference,
                ["mi_training_set", "known_drift_reference", "model", PARAMS],
                "rpt_drift_reference",
                name="drift_reference",
            ),
            Node(
                nodes.feature_drift,
                ["rpt_drift_reference", "mi_scoring_set", "model", PARAMS],
                "rpt_feature_drift",
                name="feature_drift",
            ),
            Node(
                nodes.sample_evaluation_predictions,
                ["evaluation_predictions", PARAMS],
                SAMPLE,
                name="sample_evaluation_predictions",
            ),
            Node(nodes.roc_curve_plot, SAMPLE, "rpt_roc_curve", name="roc_curve_plot"),
            Node(
                nodes.precision_recall_plot,
                SAMPLE,
                "rpt_precision_recall",
                name="precision_recall_plot",
            ),
            Node(
                nodes.calibration_plot,
                [SAMPLE, PARAMS],
                "rpt_calibration",
                name="calibration_plot",
            ),
            Node(
                nodes.feature_importance_plot,
                ["model", PARAMS],
                "rpt_feature_importance",
                name="feature_importance_plot",
            ),
            Node(
                nodes.model_card,
                [
                    "model",
                    "model_metrics",
                    SAMPLE,
                    "mi_training_set",
                    "rejected_applicants",
                    "rejected_applications",
                    "rejected_bureau_events",
                    "rejected_loan_outcomes",
                    "rpt_feature_drift",
                    "rpt_fairness",
                    "model_promotion",
                    "params:training",
                    SCORING,
                    "params:fair_lending",
                    "rpt_scorecard",
                ],
                "model_cards",
                name="model_card",
            ),
            Node(
                nodes.score_distribution_plot,
                ["mo_application_scores", SCORING, PARAMS],
                "rpt_score_distribution",
                name="score_distribution_plot",
            ),
        ]
    )
