public import Framing

/// The sans-IO heart of one stream connection (TCP envelope or HTTP/2): a demuxer and a
/// `HeartbeatEngine` wired together, and the heartbeat frames they produce, encoded and waiting
/// to be written at the next frame boundary.
///
/// This is the seam for stacks that own their event loop: a SwiftNIO handler calls
/// `receive(_:now:_:)` from `channelRead`, writes `withPendingControlBytes` ahead of queued business
/// frames (never inside one) and reports them with `controlBytesWritten(_:now:)`, and schedules a
/// timer at `nextDeadline` that calls `tick(now:)`; after each call it drains `pollOutput()`.
/// The `Transports` module does the same over Glibc sockets and an epoll loop. QUIC stacks, whose
/// packets carry whole frames and whose "pong" is an acknowledgement, use `QUICPacketDemuxer` and
/// `HeartbeatEngine` directly.
///
/// Once created it allocates nothing while heartbeats flow.
public struct HeartbeatSession: Sendable {
    /// What the session reports besides business data.
    public enum Output: Hashable, Sendable {
        /// An observable engine event (state change, RTT sample, missed pong, ...).
        case event(HeartbeatEvent)
        /// The engine declared the peer dead.
        case peerDead(PeerDeathReason)
        /// A peer declared dead answered again.
        case peerRecovered
        /// The engine wants the connection closed (ping abuse, slow frame); a GOAWAY with the
        /// dialect's code is already among the pending control bytes.
        case closeRequested(CloseReason)
        /// The peer sent GOAWAY with this code and reason: it is closing.
        case peerGoAway(code: UInt64, reason: String)
    }

    /// Which side of the connection this is (HTTP/2 only: the client sends the connection preface).
    public enum Role: Hashable, Sendable {
        case client
        case server
    }

    /// The dialect spoken: `.envelope` or `.http2`.
    public let dialect: Dialect
    /// The liveness engine.
    public private(set) var engine: HeartbeatEngine
    /// The inbound demuxer.
    public private(set) var demuxer: Demuxer
    /// Whether the session acts as a minimal HTTP/2 endpoint: sends its preface and an empty
    /// SETTINGS, and acknowledges the peer's SETTINGS (which are then not passed on). Leave it off
    /// when a real HTTP/2 stack sits above and does that itself.
    public let managesHTTP2Settings: Bool

    private var control: [UInt8] = []
    /// Pongs not queued because the pending control bytes already held `maxPendingControlBytes`: the
    /// peer pings but does not read our answers (spec/envelope.md §8, CVE-2019-9512).
    public private(set) var pongsDiscarded = 0
    /// The most control octets held unwritten before further pongs are discarded; pings, SETTINGS
    /// acknowledgements and GOAWAY are always queued (they are bounded by the engine and by the
    /// connection's life).
    public static let maxPendingControlBytes = 4096
    /// Offset in `control` just past a PING not yet reported written, to time it from its write.
    private var unwrittenPing: (payload: HeartbeatPayload, end: Int)?
    private var outputs: [Output] = []
    private var outputHead = 0

    /// A session that starts at `now`. The connection preface this side must send (envelope: its
    /// preface; HTTP/2 client managing settings: preface and SETTINGS) is already pending.
    public init(dialect: Dialect, role: Role, configuration: HeartbeatConfiguration = .init(),
                connectionID: UInt64 = 0, maxFrameSize: Int? = nil, managesHTTP2Settings: Bool = false,
                now: Timestamp) {
        precondition(dialect.isStream, "HeartbeatSession runs the stream dialects; drive QUIC with QUICPacketDemuxer and HeartbeatEngine")
        self.dialect = dialect
        self.managesHTTP2Settings = managesHTTP2Settings
        engine = HeartbeatEngine(configuration: configuration, connectionID: connectionID, dialect: dialect, now: now)
        switch dialect {
        case .envelope:
            demuxer = Demuxer(EnvelopeFrameDecoder(maxFrameSize: maxFrameSize ?? EnvelopeFrame.defaultMaxFrameSize))
        default:
            demuxer = Demuxer(HTTP2FrameDecoder(maxFrameSize: maxFrameSize ?? HTTP2Frame.defaultMaxFrameSize,
                                                preface: role == .server ? .required : .none))
        }
        control.reserveCapacity(256)
        outputs.reserveCapacity(32)
        switch dialect {
        case .envelope:
            EnvelopeFrame.appendPreface(to: &control)
        default:
            if managesHTTP2Settings {
                if role == .client { HTTP2Frame.appendClientPreface(to: &control) }
                HTTP2Frame.appendHeader(length: 0, type: HTTP2Frame.FrameType.settings, flags: 0, streamID: 0, to: &control)
            }
        }
    }

    // MARK: Inputs

    /// Feeds bytes read from the peer. Heartbeats go to the engine (answers are queued in
    /// the pending control bytes); business frames go to `deliver` in order, with their payload
    /// borrowed for the call. Envelope frames of unknown type are skipped (spec/envelope.md §5.5);
    /// GOAWAY is reported as `.peerGoAway`.
    /// - Throws: the framing error; send a close with `error.code` (see `appendClose`).
    public mutating func receive(_ bytes: RawSpan, now: Timestamp, _ deliver: (BusinessFrame, RawSpan) -> Void) throws(FramingError) {
        var engine = self.engine
        var control = self.control
        var outputs = self.outputs
        // Work on local copies moved out of self so the closure below may mutate them.
        self.control = []
        self.outputs = []
        defer {
            self.engine = engine
            self.control = control
            self.outputs = outputs
        }
        let dialect = self.dialect
        let managesSettings = managesHTTP2Settings
        var failure: FramingError?
        do {
            try demuxer.feed(bytes) { item, payload in
                switch item {
                case .ping(let heartbeat):
                    engine.receivedPing(heartbeat, now: now)
                case .pong(let heartbeat):
                    engine.receivedPong(heartbeat, now: now)
                case .business(let frame):
                    switch (dialect, frame.type) {
                    case (.envelope, EnvelopeFrame.FrameType.data):
                        engine.receivedTraffic(now: now)
                        deliver(frame, payload)
                    case (.envelope, EnvelopeFrame.FrameType.goAway):
                        if let goAway = try? EnvelopeGoAway(payload: payload) {
                            outputs.append(.peerGoAway(code: goAway.code, reason: goAway.reason))
                        }
                    case (.envelope, _):
                        break  // unknown type: ignored, the format can grow
                    case (_, UInt64(HTTP2Frame.FrameType.settings)) where managesSettings:
                        if frame.flags & HTTP2Frame.Flags.ack == 0 {
                            HTTP2Frame.appendHeader(length: 0, type: HTTP2Frame.FrameType.settings, flags: HTTP2Frame.Flags.ack,
                                                    streamID: 0, to: &control)
                        }
                    case (_, UInt64(HTTP2Frame.FrameType.goAway)):
                        if let goAway = try? HTTP2GoAway(payload: payload) {
                            outputs.append(.peerGoAway(code: UInt64(goAway.errorCode), reason: goAway.debugData))
                        }
                        engine.receivedTraffic(now: now)
                        deliver(frame, payload)
                    default:
                        engine.receivedTraffic(now: now)
                        deliver(frame, payload)
                    }
                case .quicPing, .quicAck:
                    break
                }
            }
        } catch {
            failure = error
        }
        engine.inboundFrameProgress(hasPartialFrame: demuxer.bufferedByteCount > 0, now: now)
        Self.drain(&engine, into: &control, &outputs, dialect: dialect, unwrittenPing: &unwrittenPing, pongsDiscarded: &pongsDiscarded)
        if let failure { throw failure }
    }

    /// Runs the engine's timers due at `now`: pings, missed pongs, the slow-frame rule.
    public mutating func tick(now: Timestamp) {
        engine.tick(now: now)
        Self.drain(&engine, into: &control, &outputs, dialect: dialect, unwrittenPing: &unwrittenPing, pongsDiscarded: &pongsDiscarded)
    }

    /// We wrote business data to the peer (resets ping-policing strikes, as gRPC does).
    public mutating func sentBusinessData(now: Timestamp) {
        engine.sentTraffic(now: now)
        Self.drain(&engine, into: &control, &outputs, dialect: dialect, unwrittenPing: &unwrittenPing, pongsDiscarded: &pongsDiscarded)
    }

    /// Bytes are waiting in the kernel unread (we paused reading for back-pressure): the peer is
    /// sending, which counts as traffic.
    public mutating func peerBytesWaiting(now: Timestamp) {
        engine.receivedTraffic(now: now)
        Self.drain(&engine, into: &control, &outputs, dialect: dialect, unwrittenPing: &unwrittenPing, pongsDiscarded: &pongsDiscarded)
    }

    // MARK: Outputs

    /// When `tick(now:)` is next needed, or nil.
    public var nextDeadline: Timestamp? { engine.nextDeadline }

    /// Whether heartbeat frames wait to be written.
    public var hasControlBytes: Bool { !control.isEmpty }

    /// The encoded heartbeat and control frames waiting to be written, whole frames only: write
    /// them at a frame boundary of the outbound stream, ahead of queued business frames.
    public func withPendingControlBytes<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        try body(control.span.bytes)
    }

    /// Reports that the first `count` pending control octets were written at `now`. Until all
    /// are written, write nothing else (they may end inside a frame).
    public mutating func controlBytesWritten(_ count: Int, now: Timestamp) {
        precondition(count >= 0 && count <= control.count, "more control bytes written than pending")
        control.removeFirst(count)
        if let ping = unwrittenPing {
            if ping.end <= count {
                unwrittenPing = nil
                engine.pingWritten(ping.payload, now: now)
                Self.drain(&engine, into: &control, &outputs, dialect: dialect, unwrittenPing: &unwrittenPing, pongsDiscarded: &pongsDiscarded)
            } else {
                unwrittenPing = (ping.payload, ping.end - count)
            }
        }
    }

    /// The next output, or nil. Drain after every input.
    public mutating func pollOutput() -> Output? {
        guard outputHead < outputs.count else {
            if outputHead > 0 {
                outputs.removeAll(keepingCapacity: true)
                outputHead = 0
            }
            return nil
        }
        defer { outputHead += 1 }
        return outputs[outputHead]
    }

    /// Queues the dialect's close frame: envelope GOAWAY or HTTP/2 GOAWAY with `code` and a reason.
    public mutating func appendClose(code: UInt64, reason: String) {
        Self.appendClose(dialect: dialect, code: code, reason: reason, to: &control)
    }

    private static func appendClose(dialect: Dialect, code: UInt64, reason: String, to control: inout [UInt8]) {
        switch dialect {
        case .envelope: EnvelopeFrame.appendGoAway(code: code, reason: reason, to: &control)
        default:
            HTTP2Frame.appendGoAway(lastStreamID: 0, code: HTTP2ErrorCode(rawValue: UInt32(truncatingIfNeeded: code)) ?? .internalError,
                                    debugData: reason, to: &control)
        }
    }

    private static func drain(_ engine: inout HeartbeatEngine, into control: inout [UInt8], _ outputs: inout [Output],
                              dialect: Dialect, unwrittenPing: inout (payload: HeartbeatPayload, end: Int)?,
                              pongsDiscarded: inout Int) {
        while let action = engine.pollAction() {
            switch action {
            case .sendPing(let payload):
                dialect.appendPing(payload, to: &control)
                unwrittenPing = (payload, control.count)
            case .sendPong(let payload):
                guard control.count < maxPendingControlBytes else {
                    pongsDiscarded += 1
                    continue
                }
                dialect.appendPong(payload, to: &control)
            case .peerDead(let reason):
                outputs.append(.peerDead(reason))
            case .peerRecovered:
                outputs.append(.peerRecovered)
            case .close(let reason):
                appendClose(dialect: dialect, code: reason.wireCode(for: dialect), reason: reason.debugData, to: &control)
                outputs.append(.closeRequested(reason))
            }
        }
        while let event = engine.pollEvent() {
            outputs.append(.event(event))
        }
    }
}
