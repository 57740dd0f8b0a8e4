"""Model monitoring built from EventBridge Scheduler, Step Functions and SageMaker Processing (docs/monitoring.md)."""
