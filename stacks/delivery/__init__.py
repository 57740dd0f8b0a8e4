"""The delivery pipeline (CDK Pipelines): test, deploy dev, smoke-check dev, approve, deploy prod."""
