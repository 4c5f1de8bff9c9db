// TEMPORARY: stand-ins for the dialect seam (notes/SEAM.md) until it lands on main; deleted at the merge.
public enum ConnectionRole: Hashable, Sendable { case client, server }

extension HeartbeatPayload {
    init(rawValue: UInt64, byteCount: Int) { self.init(rawValue: rawValue) }
}
