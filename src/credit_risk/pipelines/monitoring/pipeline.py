"""Monitoring: stability per run date, vintage backtests from the score history, alerts."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.monitoring import nodes

PARAMS = "params:monitoring"
RUN_DATE = "params:run_date"
# the sources whose reject rate is watched: their RAW rows and the rows cleaning rejected
SOURCES = ("applicants", "applications", "bureau_events", "loan_outcomes")


def create_pipeline(**kwargs) -> Pipeline:
    """Tables rpt_monitoring_psi (a history), its reference per model version, rpt_monitoring_backtest,
    their plots, and the alert rows."""
    return Pipeline(
        [
            Node(
                nodes.stability_reference,
                [
                    "mi_training_set",
                    "known_stability_reference",
                    "champion_model",
                    PARAMS,
                ],
                "rpt_stability_reference",
                name="stability_reference",
            ),
            Node(
                nodes.stability,
                [
                    "rpt_stability_reference",
                    "mo_score_history",
                    "mi_scoring_set",
                    "champion_model",
                    PARAMS,
                    RUN_DATE,
                ],
                ["rpt_monitoring_psi", "monitoring_psi"],
                name="stability",
            ),
            Node(
                nodes.backtest,
                ["mo_score_history", "fea_application_features", PARAMS, RUN_DATE],
                ["rpt_monitoring_backtest", "monitoring_backtest"],
                name="backtest",
            ),
            Node(
                nodes.reject_rates,
                {
                    "params": PARAMS,
                    "run_date": RUN_DATE,
                    **{f"raw_{s}": f"raw_{s}" for s in SOURCES},
                    **{f"rejected_{s}": f"rejected_{s}" for s in SOURCES},
                },
                "monitoring_rejects",
                name="reject_rates",
            ),
            Node(
                nodes.alerts,
                [
                    "monitoring_psi",
                    "monitoring_backtest",
                    "monitoring_rejects",
                    PARAMS,
                    "run_id",
                ],
                "dq_monitoring",
                name="alerts",
            ),
            Node(
                nodes.psi_plot,
                ["rpt_monitoring_psi", PARAMS],
                "rpt_monitoring_psi_plot",
                name="psi_plot",
            ),
            Node(
                nodes.backtest_plot,
                "monitoring_backtest",
                "rpt_monitoring_backtest_plot",
                name="backtest_plot",
            ),
        ]
    )
