internal let placeholderHeartbeatTracing = 0
