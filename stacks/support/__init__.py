"""Plain helpers of the constructs (no constructs here): paths into the state documents, bundling, retention."""
