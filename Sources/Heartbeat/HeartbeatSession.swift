public import Framing

/// What a `HeartbeatSession` reports besides business data.
public enum HeartbeatSessionOutput: Hashable, Sendable {
    /// An observable engine event (state change, RTT sample, missed pong, ...).
    case event(HeartbeatEvent)
    /// The engine declared the peer dead.
    case peerDead(PeerDeathReason)
    /// A peer declared dead answered again.
    case peerRecovered
    /// The engine wants the connection closed (ping abuse, slow frame); the dialect's close frame
    /// with its code is already among the pending control bytes.
    case closeRequested(CloseReason)
    /// The peer sent its close frame (GOAWAY, WebSocket Close) with this code and reason: it is closing.
    case peerGoAway(code: UInt64, reason: String)
}

/// The sans-IO heart of one stream connection, for any `StreamDialect`: the dialect's demuxer and
/// encoder and a `HeartbeatEngine` wired together, and the heartbeat frames they produce, encoded
/// and waiting to be written at the next frame boundary.
///
/// This is the seam for stacks that own their event loop: a SwiftNIO handler calls
/// `receive(_:now:_:)` from `channelRead`, writes `withPendingControlBytes` ahead of queued business
/// frames (never inside one) and reports them with `controlBytesWritten(_:now:)`, and schedules a
/// timer at `nextDeadline` that calls `tick(now:)`; after each call it drains `pollOutput()`.
/// The `Transports` module does the same over Glibc sockets and an epoll loop. QUIC stacks, whose
/// packets carry whole frames and whose "pong" is an acknowledgement, use `QUICPacketDemuxer` and
/// `HeartbeatEngine` directly.
///
/// Generic over the dialect; the per-frame path is the dialect's own decoder, specialised for the
/// built-in dialects. Once created it allocates nothing while heartbeats flow (a peer's pings longer than
/// 8 octets, which WebSocket allows, are kept in one bounded buffer reserved on the first).
public struct HeartbeatSession<D: StreamDialect>: Sendable {
    /// What the session reports besides business data.
    public typealias Output = HeartbeatSessionOutput
    /// Which side of the connection this is.
    public typealias Role = ConnectionRole

    /// The dialect spoken.
    public let dialect: D
    /// The liveness engine.
    public private(set) var engine: HeartbeatEngine
    /// The inbound demuxer, over the dialect's decoder (a built-in dialect's held by its concrete
    /// type, so that the per-frame path is specialised even where this session is not).
    public private(set) var demuxer: Demuxer
    /// The outbound encoder.
    public private(set) var encoder: D.Encoder

    private var control: [UInt8] = []
    /// Pongs not queued because the pending control bytes already held `maxPendingControlBytes`: the
    /// peer pings but does not read our answers (spec/envelope.md §8, CVE-2019-9512).
    public private(set) var pongsDiscarded = 0
    /// The most control octets held unwritten before further pongs are discarded; pings, replies to
    /// control frames and close frames are always queued (they are bounded by the engine and by the
    /// connection's life).
    public static var maxPendingControlBytes: Int { 4096 }
    /// Offset in `control` just past a PING not yet reported written, to time it from its write.
    private var unwrittenPing: (payload: HeartbeatPayload, end: Int)?
    /// A ping that fell due before the opening handshake completed, sent once it has.
    private var heldPing: HeartbeatPayload?
    private var outputs: [Output] = []
    private var outputHead = 0
    /// Payloads of the peer's pings longer than 8 octets, oldest first, each as a length octet and
    /// its octets, until their pongs are encoded. Bounded by `maxLongPingBytes`.
    private var longPings: [UInt8] = []
    private static var maxLongPingBytes: Int { 8 * 256 }

    /// A session that starts at `now`. The preface or opening handshake this side must send is
    /// already pending.
    /// - Parameters:
    ///   - dialect: the wire format.
    ///   - role: which end of the connection this is.
    ///   - configuration: the engine's settings; its `randomSeed` also seeds the dialect's encoder.
    ///   - connectionID: copied into every event.
    ///   - maxFrameSize: the largest inbound payload accepted; nil for the dialect's default.
    ///   - encoderSeed: seeds what the dialect's encoder must make unpredictable (WebSocket masking
    ///     keys, RFC 6455 §10.3). Pass 64 bits from a secure source (`Transports` uses
    ///     getrandom(2)); nil derives it from `configuration.randomSeed` and `connectionID`, which is
    ///     reproducible for tests and predictable on a network.
    public init(dialect: D, role: Role, configuration: HeartbeatConfiguration = .init(),
                connectionID: UInt64 = 0, maxFrameSize: Int? = nil, encoderSeed: UInt64? = nil, now: Timestamp) {
        self.dialect = dialect
        engine = HeartbeatEngine(configuration: configuration, connectionID: connectionID, dialect: dialect.dialect,
                                 liveness: dialect.liveness, now: now)
        demuxer = Demuxer(dialect.makeDecoder(role: role, maxFrameSize: maxFrameSize))
        encoder = dialect.makeEncoder(role: role, randomSeed: encoderSeed ?? configuration.randomSeed ^ connectionID)
        control.reserveCapacity(256)
        outputs.reserveCapacity(32)
        encoder.appendPreface(to: &control)
    }

    // MARK: Inputs

    /// Feeds bytes read from the peer. Heartbeats go to the engine (answers are queued in the
    /// pending control bytes); business frames go to the dialect's encoder, which says whether they
    /// are delivered (to `deliver`, in order, payload borrowed for the call), consumed, ignored or a
    /// close, and queues any reply.
    /// - Throws: the framing error; send a close with `error.code` (see `appendClose`).
    public mutating func receive(_ bytes: RawSpan, now: Timestamp, _ deliver: (BusinessFrame, RawSpan) -> Void) throws(FramingError) {
        // Work on local copies moved out of self so the closure below may mutate them while the
        // demuxer is being fed.
        var engine = self.engine
        var encoder = self.encoder
        var control = self.control
        var outputs = self.outputs
        var longPings = self.longPings
        self.control = []
        self.outputs = []
        self.longPings = []
        defer {
            self.engine = engine
            self.encoder = encoder
            self.control = control
            self.outputs = outputs
            self.longPings = longPings
        }
        var rejected: FramingError.Reason?
        var failure: FramingError?
        do throws(FramingError) {
            try demuxer.feed(bytes) { item, payload in
                guard rejected == nil else { return }
                switch item {
                case .ping(let heartbeat):
                    if !heartbeat.isWhole { Self.keepLongPing(payload, in: &longPings) }
                    engine.receivedPing(heartbeat, now: now)
                case .pong(let heartbeat):
                    engine.receivedPong(heartbeat, now: now)
                case .business(let frame):
                    let disposition: InboundDisposition
                    do throws(FramingError.Reason) {
                        disposition = try encoder.inbound(frame, payload: payload, reply: &control)
                    } catch {
                        rejected = error
                        return
                    }
                    switch disposition {
                    case .deliver:
                        engine.receivedTraffic(now: now)
                        deliver(frame, payload)
                    case .consumed, .ignored:
                        break
                    case .peerClosing(let code, let reason, let alsoDeliver):
                        outputs.append(.peerGoAway(code: code, reason: reason))
                        if alsoDeliver {
                            engine.receivedTraffic(now: now)
                            deliver(frame, payload)
                        }
                    }
                case .quicPing, .quicAck:
                    break
                }
            }
        } catch {
            failure = error
        }
        if let rejected {
            // Found by the encoder after the frame was delimited: reported at the chunk's end.
            failure = FramingError(rejected, dialect: dialect.dialect,
                                   code: rejected.ruleCode ?? D.Decoder.wireCode(for: rejected), offset: demuxer.offset)
        }
        engine.inboundFrameProgress(hasPartialFrame: demuxer.bufferedByteCount > 0, now: now)
        Self.drain(&engine, &encoder, &control, &outputs, &longPings, &unwrittenPing, &heldPing, &pongsDiscarded)
        if let failure { throw failure }
    }

    /// Runs the engine's timers due at `now`: pings, missed pongs, the slow-frame rule.
    public mutating func tick(now: Timestamp) {
        engine.tick(now: now)
        drainSelf()
    }

    /// We wrote business data to the peer (resets ping-policing strikes, as gRPC does).
    public mutating func sentBusinessData(now: Timestamp) {
        engine.sentTraffic(now: now)
        drainSelf()
    }

    /// Bytes are waiting in the kernel unread (we paused reading for back-pressure): the peer is
    /// sending, which counts as traffic.
    public mutating func peerBytesWaiting(now: Timestamp) {
        engine.receivedTraffic(now: now)
        drainSelf()
    }

    // MARK: Outputs

    /// When `tick(now:)` is next needed, or nil.
    public var nextDeadline: Timestamp? { engine.nextDeadline }

    /// Whether heartbeat frames wait to be written.
    public var hasControlBytes: Bool { !control.isEmpty }

    /// Whether the connection is open for business frames: false while the dialect's opening
    /// handshake is under way (see `StreamFrameEncoder.isOpen`). Write none until it is.
    public var isOpen: Bool { encoder.isOpen }

    /// The codes this dialect closes with.
    public var closeCodes: CloseCodes { encoder.closeCodes }

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
                drainSelf()
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

    /// Queues the dialect's close frame (GOAWAY, Close) with `code` and a reason.
    public mutating func appendClose(code: WireErrorCode, reason: String) {
        encoder.appendClose(code: code, reason: reason, to: &control)
    }

    /// Encodes `payload` as the dialect's business frames of `type` (nil: its default), split at
    /// `maxDataPayload`, appending them to `buffer` (for a dialect whose application writes whole
    /// frames, as it is).
    public mutating func encodeData(_ payload: RawSpan, type: UInt64? = nil, to buffer: inout [UInt8]) {
        let limit = encoder.maxDataPayload
        var start = 0
        repeat {
            let end = start + Swift.min(limit, payload.byteCount - start)
            encoder.appendData(payload.extracting(start..<end), type: type, to: &buffer)
            start = end
        } while start < payload.byteCount
    }

    // MARK: Internals

    private mutating func drainSelf() {
        Self.drain(&engine, &encoder, &control, &outputs, &longPings, &unwrittenPing, &heldPing, &pongsDiscarded)
    }

    private static func keepLongPing(_ payload: RawSpan, in longPings: inout [UInt8]) {
        let length = Swift.min(payload.byteCount, 255)
        if longPings.capacity == 0 { longPings.reserveCapacity(maxLongPingBytes) }
        // Full: forget the oldest; its pong, if still queued, is then discarded.
        while !longPings.isEmpty && longPings.count + 1 + length > maxLongPingBytes {
            longPings.removeFirst(1 + Int(longPings[0]))
        }
        longPings.append(UInt8(length))
        payload.extracting(0..<length).withUnsafeBytes { longPings.append(contentsOf: $0) }
    }

    /// Encodes the pong for `payload`: inline when whole, else from the oldest kept long ping with
    /// the same first octets (older ones, whose pongs the engine dropped, are forgotten).
    private static func appendPong(_ payload: HeartbeatPayload, _ encoder: inout D.Encoder, _ control: inout [UInt8],
                                   _ longPings: inout [UInt8]) -> Bool {
        if payload.isWhole {
            payload.withOctets { encoder.appendPong(echoing: $0, to: &control) }
            return true
        }
        while !longPings.isEmpty {
            let length = Int(longPings[0])
            let matches = longPings.span.bytes.extracting(1..<(1 + length)).withUnsafeBytes { octets in
                HeartbeatPayload(prefixOf: octets.bytes) == payload
            }
            if matches {
                encoder.appendPong(echoing: longPings.span.bytes.extracting(1..<(1 + length)), to: &control)
            }
            longPings.removeFirst(1 + length)
            if matches { return true }
        }
        return false
    }

    private static func drain(_ engine: inout HeartbeatEngine, _ encoder: inout D.Encoder, _ control: inout [UInt8],
                              _ outputs: inout [Output], _ longPings: inout [UInt8],
                              _ unwrittenPing: inout (payload: HeartbeatPayload, end: Int)?, _ heldPing: inout HeartbeatPayload?,
                              _ pongsDiscarded: inout Int) {
        if let payload = heldPing, encoder.isOpen {
            heldPing = nil
            encoder.appendPing(payload, to: &control)
            unwrittenPing = (payload, control.count)
        }
        while let action = engine.pollAction() {
            switch action {
            case .sendPing(let payload) where !encoder.isOpen:
                heldPing = payload  // the newest; an older held one is never sent and will be missed
            case .sendPing(let payload):
                encoder.appendPing(payload, to: &control)
                unwrittenPing = (payload, control.count)
            case .sendPong(let payload):
                guard control.count < maxPendingControlBytes,
                      appendPong(payload, &encoder, &control, &longPings) else {
                    pongsDiscarded += 1
                    continue
                }
            case .peerDead(let reason):
                outputs.append(.peerDead(reason))
            case .peerRecovered:
                outputs.append(.peerRecovered)
            case .close(let reason):
                encoder.appendClose(code: reason.closeCode(in: encoder.closeCodes), reason: reason.debugData, to: &control)
                outputs.append(.closeRequested(reason))
            }
        }
        while let event = engine.pollEvent() {
            outputs.append(.event(event))
        }
    }
}
