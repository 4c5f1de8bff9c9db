internal let placeholderHeartbeatMetrics = 0
