"""Plain logic of the prepare-run function: input validation and run planning, testable without AWS."""
