// TEMPORARY: the lead's "Seam: NegotiatedHeartbeat" commit brings this type to main; this stub
// is deleted when main is merged.

/// A heartbeat schedule agreed on the wire (see the lead's seam).
public struct NegotiatedHeartbeat: Hashable, Sendable {
    /// How often this side sends its beat; nil: none.
    public var pingInterval: Duration?
    /// How long the peer may stay silent before it is declared dead; nil: no silence rule.
    public var peerSilenceLimit: Duration?
    /// A schedule.
    public init(pingInterval: Duration?, peerSilenceLimit: Duration?) {
        self.pingInterval = pingInterval
        self.peerSilenceLimit = peerSilenceLimit
    }
}
