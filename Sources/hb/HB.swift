// hb: the swift-heartbeat command-line tool.
import Glibc

let version = "0.1.0"
let usage = """
    hb \(version) — heartbeats for TCP, HTTP/2, WebSocket and QUIC (swift-heartbeat)

    usage: hb <command> [options]    (hb <command> --help for each)
      demo     a server and a client on loopback; the server stalls and the client detects it
      serve    answer heartbeats and echo business data on a port
      probe    ping a peer at the protocol level (TCP envelope, HTTP/2 or WebSocket PING), like ping(8)
      decode   dissect a byte capture into heartbeat and business items (text or JSON lines)
      --version, --help

    Exit status: 0 ok, 1 peer dead or error, 2 usage.
    """

/// The entry point: dispatches to the subcommand and exits with its status.
@main
struct HB {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let status: Int32
        switch arguments.first {
        case "demo": status = await DemoCommand.run(Array(arguments.dropFirst()))
        case "serve": status = await ServeCommand.run(Array(arguments.dropFirst()))
        case "probe": status = await ProbeCommand.run(Array(arguments.dropFirst()))
        case "decode": status = DecodeCommand.run(Array(arguments.dropFirst()))
        case "--version", "version":
            say("hb \(version)")
            status = ExitStatus.success
        case "--help", "-h", "help":
            say(usage)
            status = ExitStatus.success
        case nil:
            complain(usage)
            status = ExitStatus.usage
        case let command?:
            complain("hb: unknown command \"\(command)\"\n\n\(usage)")
            status = ExitStatus.usage
        }
        exit(status)
    }
}
