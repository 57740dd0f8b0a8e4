"""``python -m training_code monitor``: drift and model quality of captured endpoint traffic against a baseline.

capture.py reads data capture's JSON Lines, drift.py compares features with the baseline, quality.py merges
ground-truth labels, reports.py writes Model Monitor's report files, metrics.py the CloudWatch metrics and
html_report.py the page a person reads. See docs/monitoring.md.
"""
