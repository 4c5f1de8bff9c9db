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

    /// What the engine's actions became, waiting for the adapter: control bytes, outputs, and
    /// the bookkeeping of pings and pongs.
    private var pending = Pending()
    /// Pongs not queued because the pending control bytes already held `maxPendingControlBytes`
    /// (the peer pings but does not read our answers; spec/envelope.md §8, CVE-2019-9512), or
    /// because a ping's payload was too long to keep.
    public var pongsDiscarded: Int { pending.pongsDiscarded }
    /// The most control octets held unwritten before further pongs are discarded; pings, replies to
    /// control frames and close frames are always queued (they are bounded by the engine and by the
    /// connection's life).
    public static var maxPendingControlBytes: Int { 4096 }
    /// In the in-order model, where a dropped pong would misalign every later answer, pongs are
    /// queued past `maxPendingControlBytes` up to this many unwritten control octets; past it the
    /// session fails (`answers-unread`, the dialect's ENHANCE_YOUR_CALM code) rather than drop one.
    public static var maxPendingInOrderAnswerBytes: Int { 1 << 20 }
    /// The error that stopped the session, if any: every later `receive` rethrows it.
    public private(set) var failure: FramingError?
    /// The negotiated schedule last applied to the engine (see `StreamFrameEncoder.negotiatedHeartbeat`).
    private var appliedSchedule: NegotiatedHeartbeat?

    /// A session that starts at `now`. The preface or opening handshake this side must send is
    /// already pending.
    /// - Parameters:
    ///   - dialect: the wire format.
    ///   - role: which end of the connection this is.
    ///   - configuration: the engine's settings.
    ///   - connectionID: copied into every event.
    ///   - maxFrameSize: the largest inbound payload accepted; nil for the dialect's default.
    ///   - encoderSeed: seeds what the dialect's encoder must make unpredictable (WebSocket masking
    ///     keys, RFC 6455 §10.3). On a network pass 64 bits from a secure source (`Transports` uses
    ///     getrandom(2), SwiftNIO users `SystemRandomNumberGenerator`); tests pass a constant. This
    ///     module makes no system call, so it cannot draw one itself.
    ///   - now: when the session starts; the engine's schedule counts from it.
    public init(dialect: D, role: Role, configuration: HeartbeatConfiguration = .init(),
                connectionID: UInt64 = 0, maxFrameSize: Int? = nil, encoderSeed: UInt64, now: Timestamp) {
        self.dialect = dialect
        engine = HeartbeatEngine(configuration: configuration, connectionID: connectionID, dialect: dialect.dialect,
                                 liveness: dialect.liveness, now: now)
        demuxer = Demuxer(dialect.makeDecoder(role: role, maxFrameSize: maxFrameSize))
        encoder = dialect.makeEncoder(role: role, randomSeed: encoderSeed)
        pending.answersInOrder = dialect.liveness == .inOrder
        Self.applyNegotiatedSchedule(encoder, &engine, &appliedSchedule, now: now)
        encoder.appendPreface(to: &pending.control)
        Self.applyNegotiatedSchedule(encoder, &engine, &appliedSchedule, now: now)
    }

    /// Applies the encoder's negotiated heartbeat schedule to the engine when it changed.
    private static func applyNegotiatedSchedule(_ encoder: D.Encoder, _ engine: inout HeartbeatEngine,
                                                _ applied: inout NegotiatedHeartbeat?, now: Timestamp) {
        let schedule = encoder.negotiatedHeartbeat
        guard schedule != applied else { return }
        applied = schedule
        if let schedule { engine.applyNegotiated(schedule, now: now) }
    }

    // MARK: Inputs

    /// Feeds bytes read from the peer. Heartbeats go to the engine (answers are queued in the
    /// pending control bytes); business frames go to the dialect's encoder, which says whether they
    /// are delivered (to `deliver`, in order, payload borrowed for the call), consumed, ignored or a
    /// close, and queues any reply.
    /// - Throws: the framing error; send a close with `error.code` (see `appendClose`).
    public mutating func receive(_ bytes: RawSpan, now: Timestamp, _ deliver: (BusinessFrame, RawSpan) -> Void) throws(FramingError) {
        if let failure { throw failure }
        // The closure below mutates the engine, encoder and pending output in place while the
        // demuxer (a disjoint stored property) is being fed: no copy of the session's values per
        // read (the engine alone is some 3.5 KB).
        var rejected: FramingError.Reason?
        var failure: FramingError?
        // An in-order dialect's answers must never be dropped: a missing pong would pair every
        // later answer with the wrong request (a RESP server answers each command in order).
        let answersInOrder = self.pending.answersInOrder
        // Any octet counts against a silence rule (AMQP 0-9-1 §4.2.7), even part of a frame.
        if !bytes.isEmpty { self.engine.receivedOctets(now: now) }
        do throws(FramingError) {
            try demuxer.feed(bytes) { item, payload in
                guard rejected == nil else { return }
                switch item {
                case .ping(let heartbeat):
                    // Every ping is answered now, in order with the encoder's replies to the frames
                    // around it. A payload longer than 8 octets (WebSocket up to 125, TLS up to
                    // 16,365) goes to the engine under a stand-in and its pong is encoded from the
                    // octets in hand: nothing is kept past this call, and nothing is cut short.
                    let ping = heartbeat.isWhole ? heartbeat : self.pending.standIn(forLongPing: payload)
                    self.engine.receivedPing(ping, now: now)
                    while let action = self.engine.pollAction() {
                        if case .sendPong(let answered) = action, !answered.isWhole {
                            guard answered == ping else { self.pending.pongsDiscarded += 1; continue }
                            Self.queuePong(inOrder: answersInOrder, &self.pending) { self.encoder.appendPong(echoing: payload, to: &$0) }
                        } else {
                            Self.perform(action, inOrder: answersInOrder, &self.encoder, &self.pending)
                        }
                    }
                case .pong(let heartbeat):
                    self.engine.receivedPong(heartbeat, now: now)
                case .business(let frame):
                    let disposition: InboundDisposition
                    do throws(FramingError.Reason) {
                        disposition = try self.encoder.inbound(frame, payload: payload, reply: &self.pending.control)
                    } catch {
                        rejected = error
                        return
                    }
                    Self.applyNegotiatedSchedule(self.encoder, &self.engine, &self.appliedSchedule, now: now)
                    switch disposition {
                    case .deliver:
                        self.engine.receivedTraffic(now: now)
                        deliver(frame, payload)
                    case .consumed, .ignored:
                        break
                    case .peerClosing(let code, let reason, let alsoDeliver):
                        self.pending.outputs.append(.peerGoAway(code: code, reason: reason))
                        if alsoDeliver {
                            self.engine.receivedTraffic(now: now)
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
            // Found by the encoder once the frame was delimited (a bad handshake answer): reported
            // at the end of the chunk that carried it, and nothing after it is read.
            failure = FramingError(rejected, dialect: dialect.dialect,
                                   code: rejected.ruleCode ?? D.Decoder.wireCode(for: rejected), offset: demuxer.offset)
        }
        if failure == nil && self.pending.unansweredInOrder {
            // The peer pipelines requests without reading our answers: we cannot drop one (every
            // later answer would be misread), so we stop.
            let violation = RuleViolation("answers-unread", "the peer sent more in-order requests than \(Self.maxPendingInOrderAnswerBytes) octets of answers unread; an answer cannot be dropped",
                                          code: self.encoder.closeCodes.enhanceYourCalm)
            failure = FramingError(.violation(violation), dialect: dialect.dialect, code: violation.code, offset: demuxer.offset)
        }
        self.failure = failure
        self.engine.inboundFrameProgress(hasPartialFrame: demuxer.bufferedByteCount > 0, now: now)
        Self.drain(&self.engine, &self.encoder, &self.pending)
        if let failure { throw failure }
    }

    /// Runs the engine's timers due at `now`: pings, missed pongs, the slow-frame rule.
    public mutating func tick(now: Timestamp) {
        engine.tick(now: now)
        drainSelf()
    }

    /// The adapter's loop was `lag` late at `now` (local health: see
    /// ``HeartbeatEngine/observedLocalLag(_:now:)``). Report it before feeding what was read.
    public mutating func observedLocalLag(_ lag: Duration, now: Timestamp) {
        engine.observedLocalLag(lag, now: now)
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
    public var hasControlBytes: Bool { !pending.control.isEmpty }

    /// Whether the connection is open for business frames: false while the dialect's opening
    /// handshake is under way (see `StreamFrameEncoder.isOpen`). Write none until it is.
    public var isOpen: Bool { encoder.isOpen }

    /// The codes this dialect closes with.
    public var closeCodes: CloseCodes { encoder.closeCodes }

    /// The encoded heartbeat and control frames waiting to be written, whole frames only: write
    /// them at a frame boundary of the outbound stream, ahead of queued business frames.
    public func withPendingControlBytes<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        try body(pending.control.span.bytes)
    }

    /// Reports that the first `count` pending control octets were written at `now`. Until all
    /// are written, write nothing else (they may end inside a frame).
    public mutating func controlBytesWritten(_ count: Int, now: Timestamp) {
        precondition(count >= 0 && count <= pending.control.count, "more control bytes written than pending")
        pending.control.removeFirst(count)
        if let ping = pending.unwrittenPing {
            if ping.end <= count {
                pending.unwrittenPing = nil
                engine.pingWritten(ping.payload, now: now)
                drainSelf()
            } else {
                pending.unwrittenPing = (ping.payload, ping.end - count)
            }
        }
    }

    /// The next output, or nil. Drain after every input.
    public mutating func pollOutput() -> Output? {
        guard pending.outputHead < pending.outputs.count else {
            if pending.outputHead > 0 {
                pending.outputs.removeAll(keepingCapacity: true)
                pending.outputHead = 0
            }
            return nil
        }
        defer { pending.outputHead += 1 }
        return pending.outputs[pending.outputHead]
    }

    /// Queues the dialect's close frame (GOAWAY, Close) with `code` and a reason.
    public mutating func appendClose(code: WireErrorCode, reason: String) {
        encoder.appendClose(code: code, reason: reason, to: &pending.control)
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
        Self.drain(&engine, &encoder, &pending)
    }

    private static func drain(_ engine: inout HeartbeatEngine, _ encoder: inout D.Encoder, _ pending: inout Pending) {
        if encoder.isOpen {
            // Pings that fell due during the opening handshake, in order (the in-order model
            // counts on every ping it sent going out).
            for payload in pending.heldPings {
                encoder.appendPing(payload, to: &pending.control)
                pending.unwrittenPing = (payload, pending.control.count)
            }
            pending.heldPings.removeAll(keepingCapacity: true)
        }
        let inOrder = pending.answersInOrder
        while let action = engine.pollAction() {
            perform(action, inOrder: inOrder, &encoder, &pending)
        }
        while let event = engine.pollEvent() {
            pending.outputs.append(.event(event))
        }
    }

    /// Carries out one engine action: encodes pings (held during a handshake) and pongs, and turns
    /// verdicts and closes into outputs.
    private static func perform(_ action: HeartbeatAction, inOrder: Bool, _ encoder: inout D.Encoder, _ pending: inout Pending) {
        switch action {
        case .sendPing(let payload) where !encoder.isOpen:
            // Bounded: the engine has at most 4 pings outstanding; older ones have expired.
            if pending.heldPings.count == 4 { pending.heldPings.removeFirst() }
            pending.heldPings.append(payload)
        case .sendPing(let payload):
            encoder.appendPing(payload, to: &pending.control)
            pending.unwrittenPing = (payload, pending.control.count)
        case .sendPong(let payload):
            // A long payload's pong is encoded where its octets are in hand (`receive`); here, a
            // stand-in left over has nothing to echo.
            guard payload.isWhole else { pending.pongsDiscarded += 1; return }
            queuePong(inOrder: inOrder, &pending) { control in payload.withOctets { encoder.appendPong(echoing: $0, to: &control) } }
        case .peerDead(let reason):
            pending.outputs.append(.peerDead(reason))
        case .peerRecovered:
            pending.outputs.append(.peerRecovered)
        case .close(let reason):
            encoder.appendClose(code: reason.closeCode(in: encoder.closeCodes), reason: reason.debugData, to: &pending.control)
            pending.outputs.append(.closeRequested(reason))
        }
    }

    /// Queues a pong with `append` unless the peer already has `maxPendingControlBytes` of control
    /// octets unread: then an echo dialect's pong is discarded (its pings are matched by payload;
    /// spec/envelope.md §8, CVE-2019-9512), while an in-order dialect's is kept up to
    /// `maxPendingInOrderAnswerBytes` and past that the session fails.
    private static func queuePong(inOrder: Bool, _ pending: inout Pending, _ append: (inout [UInt8]) -> Void) {
        guard pending.control.count >= maxPendingControlBytes else { return append(&pending.control) }
        guard inOrder else { pending.pongsDiscarded += 1; return }
        guard pending.control.count < maxPendingInOrderAnswerBytes else { pending.unansweredInOrder = true; return }
        append(&pending.control)
    }
}

/// A session's outbound state: everything its engine's actions became.
struct Pending: Sendable {
    /// Encoded heartbeat and control frames, whole frames only.
    var control: [UInt8] = []
    var outputs: [HeartbeatSessionOutput] = []
    var outputHead = 0
    /// A ping not yet reported written, and the offset in `control` just past it, to time it from
    /// its write.
    var unwrittenPing: (payload: HeartbeatPayload, end: Int)?
    /// Pings that fell due before the opening handshake completed, sent once it has.
    var heldPings: [HeartbeatPayload] = []
    var pongsDiscarded = 0
    /// The dialect answers in the in-order model: no pong may be dropped.
    var answersInOrder = false
    /// An in-order answer could not be queued (see `HeartbeatSession.maxPendingInOrderAnswerBytes`).
    var unansweredInOrder = false
    private var longPingSerial: UInt64 = 0

    /// The stand-in under which a ping with a payload longer than 8 octets goes to the engine: a
    /// serial number, so that a stray pong is never confused with another.
    mutating func standIn(forLongPing payload: RawSpan) -> HeartbeatPayload {
        longPingSerial &+= 1
        return HeartbeatPayload(rawValue: longPingSerial, byteCount: Swift.max(payload.byteCount, HeartbeatPayload.byteCount + 1))
    }

    /// Reserves nothing: the arrays grow on first use and keep their capacity (a connection that
    /// only answers pings holds a few dozen octets, not kilobytes, of them).
    init() {}
}

