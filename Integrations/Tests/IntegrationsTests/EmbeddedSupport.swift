import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOEmbedded
import Testing

/// Records what the `NIOHeartbeatHandler` ahead of it fires.
typealias Recorder = EventRecorder<HeartbeatNIOBusiness>

/// Records what a handler ahead of it fires: inbound messages, heartbeat events, errors.
final class EventRecorder<Inbound>: ChannelInboundHandler {
    typealias InboundIn = Inbound

    var business: [Inbound] = []
    var events: [HeartbeatNIOEvent] = []
    var errors: [any Error] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        business.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? HeartbeatNIOEvent { events.append(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }

    var rttSamples: [RTTSnapshot] {
        events.compactMap { if case .event(let event) = $0.output, case .rttSample(let rtt) = event.kind { return rtt } else { return nil } }
    }
}

/// The other end of an `EmbeddedChannel`: a sans-IO `HeartbeatSession` of the same dialect that
/// reads what the channel wrote and writes its answers back in.
struct Peer<D: StreamDialect> {
    var session: HeartbeatSession<D>
    var delivered: [(frame: BusinessFrame, payload: [UInt8])] = []
    var outputs: [HeartbeatSessionOutput] = []
    /// Whether the peer's answers (pongs, handshake, close echoes) are written back.
    var answers = true

    init(dialect: D, role: ConnectionRole, now: Timestamp) {
        // The peer never pings on its own: the handler's engine is the one under test.
        let configuration = HeartbeatConfiguration(pingInterval: .seconds(3600), pingPolicy: PingPolicy(minimumPeerPingInterval: .zero))
        session = HeartbeatSession(dialect: dialect, role: role, configuration: configuration, encoderSeed: 7, now: now)
    }

    /// Moves bytes both ways until neither side has anything more to say.
    mutating func pump(_ channel: EmbeddedChannel) throws {
        var moved = true
        while moved {
            moved = false
            let now = Timestamp(channel.embeddedEventLoop.now)
            while let written = try channel.readOutbound(as: ByteBuffer.self) {
                moved = true
                var delivered: [(frame: BusinessFrame, payload: [UInt8])] = []
                try written.withUnsafeReadableBytes { raw throws(FramingError) in
                    try session.receive(raw.bytes, now: now) { frame, payload in
                        delivered.append((frame, payload.withUnsafeBytes { Array($0) }))
                    }
                }
                self.delivered += delivered
            }
            while let output = session.pollOutput() { outputs.append(output) }
            if answers, session.hasControlBytes, channel.isActive {
                moved = true
                try send(takeControl(now: now), to: channel)
            }
        }
    }

    /// The peer's pending control bytes, taken.
    mutating func takeControl(now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { span in span.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    /// `bytes` as one inbound read.
    func send(_ bytes: [UInt8], to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    /// The peer's business frames for `payload`, encoded by its session.
    mutating func encode(_ payload: [UInt8], type: UInt64? = nil) -> [UInt8] {
        var frames: [UInt8] = []
        payload.withUnsafeBytes { session.encodeData($0.bytes, type: type, to: &frames) }
        return frames
    }
}

/// An active `EmbeddedChannel` running `handler` then a `Recorder`.
func embeddedChannel(_ handler: some ChannelHandler) throws -> (EmbeddedChannel, Recorder) {
    let recorder = Recorder()
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(handler)
    try channel.pipeline.syncOperations.addHandler(recorder)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    return (channel, recorder)
}

/// A configuration that pings every second and gives up after one missed pong of 500 ms.
func quickConfiguration() -> HeartbeatConfiguration {
    var configuration = HeartbeatConfiguration.fixedTimeout
    configuration.pingInterval = .seconds(1)
    configuration.ackTimeout = .milliseconds(500)
    return configuration
}

/// A client `NIOHeartbeatHandler` on an `EmbeddedChannel`, its recorder, and a server `Peer` that
/// has already answered the preface or handshake.
struct ClientHarness<D: StreamDialect> {
    let handler: NIOHeartbeatHandler<D>
    let channel: EmbeddedChannel
    let recorder: Recorder
    var peer: Peer<D>

    init(dialect: D, configuration: HeartbeatConfiguration = quickConfiguration(),
         options: NIOHeartbeatOptions = NIOHeartbeatOptions(encoderSeed: 1)) throws {
        handler = NIOHeartbeatHandler(dialect: dialect, role: .client, configuration: configuration, options: options)
        (channel, recorder) = try embeddedChannel(handler)
        peer = Peer(dialect: dialect, role: .server, now: Timestamp(channel.embeddedEventLoop.now))
        try peer.pump(channel)
    }

    /// Lets `time` pass, then moves bytes both ways.
    mutating func step(_ time: TimeAmount) throws {
        channel.embeddedEventLoop.advanceTime(by: time)
        try peer.pump(channel)
    }
}
