"""The reveal's charts, each with the table the page shows beside it (``lib.charts``)."""

from decision_support.lib.charts import Chart, bar_chart, line_chart

RATES = (("class", "The class"), ("with_model", "Students shown the model"),
         ("without_model", "Students not shown the model"), ("model", "The model's top arm"),
         ("random", "A random eligible arm"), ("oracle", "The truly best arm (oracle)"))


def rates_chart(scores: dict) -> Chart:
    shown = [(label, scores[key]) for key, label in RATES if scores[key] is not None]
    return bar_chart("exercise-rates", "Expected response rate of each way of choosing",
                     "Choices of", "Expected response rate", [label for label, _ in shown],
                     {"Expected response rate": [value for _, value in shown]}, percent=True,
                     caption="The mean true probability of response under the arms chosen, over "
                             "the cases students answered (from the simulation, not from observed "
                             "outcomes).")


def calibration_chart(scores: dict) -> Chart:
    bands = [row for row in scores["calibration"] if row["answers"]]
    return line_chart("exercise-calibration", "Confidence against being right", "Mean confidence",
                      "Share of choices that were the truly best arm",
                      {"Students' answers": ([r["mean_confidence"] for r in bands],
                                             [r["best_share"] for r in bands])},
                      diagonal=True, percent=True,
                      caption="One point per confidence band (0–19 … 80–100); on the dotted "
                              "line confidence matches how often the choice was the best arm.")


def result_charts(scores: dict) -> list[Chart]:
    return [rates_chart(scores), calibration_chart(scores)]
