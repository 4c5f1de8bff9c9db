// The liveness engine lives here (issue 3).
