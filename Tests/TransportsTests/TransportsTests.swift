import Testing
import Transports
