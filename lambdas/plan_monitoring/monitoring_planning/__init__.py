"""Plan one monitoring run: what serves, its baseline, the captured window, and whether retraining may start."""
