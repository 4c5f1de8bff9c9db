import Testing
import Heartbeat
