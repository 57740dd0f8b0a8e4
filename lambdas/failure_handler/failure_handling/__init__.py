"""Logic of the pipeline's failure handler, kept apart from the Lambda entry point.

A package with a distinctive name (rather than top-level ``events.py``-style modules)
so that other functions' modules of the same short names never shadow these when
several Lambda directories share one ``sys.path``, as they do in the test session.
"""
