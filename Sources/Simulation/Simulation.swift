// The deterministic network simulation lives here (issue 3).
