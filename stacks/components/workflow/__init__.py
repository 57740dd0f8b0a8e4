"""The pipeline's Step Functions workflow: states, error handling and the role that runs them."""
