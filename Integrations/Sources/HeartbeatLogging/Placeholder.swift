internal let placeholderHeartbeatLogging = 0
